// The embedded server's admin socket: while a server holds an embedded data directory, the CLI's
// database commands (create-api-key, migrate) run inside that server, through its own pool and ORM,
// so nothing ever opens the PGlite files twice and no transaction interleaves with the server's.
//
// It is a Unix domain socket (never TCP: nothing off this machine can reach it), created with mode
// 0600 in a folder of mode 0700 (see startAdminSocket), and named in the directory's lock file. The CLI only
// uses a socket owned by its own user. The protocol is HTTP with JSON bodies, one route per command.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { loggable } from './db/errors.js';
import type { Database } from './db/orm.js';
import { ApiKeyRole, type ApiKeyRoleName } from './entities/api-key.entity.js';
import type { Logger } from './logger.js';
import { NotFoundError, ValidationError } from './organizations/errors.js';

export type CreateApiKeyRequest = Readonly<{ email: string | null; organizationId: string | null; label: string; role: ApiKeyRoleName; expiresAt: string | null }>;
export type CreateApiKeyAnswer = Readonly<{ key: string; id: string; label: string; email: string | null; organizationId: string | null }>;
export type ListApiKeysRequest = Readonly<{ email: string | null; organizationId: string | null }>;
/** A key as the CLI prints it (ISO times). */
export type ListedApiKey = Readonly<{
  id: string;
  name: string;
  role: ApiKeyRoleName;
  scope: string;
  status: string;
  hint: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}>;
export type RevokeApiKeyAnswer = Readonly<{ key: ListedApiKey }>;

export type AdminCommandName = 'create-api-key' | 'list-api-keys' | 'revoke-api-key' | 'migrate';

/** An operator command refused for its input: the CLI prints the message and exits 1. */
export class AdminCommandError extends Error {
  override readonly name = 'AdminCommandError';
}

/** What the operator's key commands do, in the CLI's process or inside the running server (below). */
export async function runKeyCommand(
  em: EntityManager,
  command: Exclude<AdminCommandName, 'migrate'>,
  body: Record<string, unknown>,
  audit: (event: string, fields: Record<string, string | null>) => void,
): Promise<unknown> {
  const keys = await import('./api-keys/api-keys.js');
  const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : null);
  const listed = (record: import('./api-keys/api-keys.js').ApiKeyRecord): ListedApiKey => ({
    id: record.id,
    name: record.name,
    role: (['read', 'admin', 'owner'] as const)[record.role],
    scope: record.scope,
    status: keys.keyStatus(record).toLowerCase(),
    hint: record.hint,
    createdAt: record.createdAt.toISOString(),
    expiresAt: record.expiresAt?.toISOString() ?? null,
    lastUsedAt: record.lastUsedAt?.toISOString() ?? null,
    revokedAt: record.revokedAt?.toISOString() ?? null,
  });
  try {
    switch (command) {
      case 'create-api-key': {
        const role = text('role');
        const label = text('label');
        if (!role || !Object.hasOwn(ApiKeyRole, role) || label === null || (text('email') === null) === (text('organizationId') === null)) {
          throw new AdminCommandError('create-api-key needs an email or an organization (not both), a label and a role (read, admin or owner)');
        }
        const expiresAt = text('expiresAt') ? new Date(text('expiresAt')!) : null;
        const organizationId = text('organizationId');
        if (organizationId !== null) {
          const created = await keys.createOrganizationApiKey(em, organizationId, { name: label, role: role as ApiKeyRoleName, expiresAt });
          audit('api_key.created', { keyId: created.apiKey.id, actingKeyId: null, organizationId });
          return { key: created.secret, id: created.apiKey.id, label: created.apiKey.name, email: null, organizationId } satisfies CreateApiKeyAnswer;
        }
        const created = await keys.createApiKey(em, { email: text('email')!, label, role: role as ApiKeyRoleName, expiresAt });
        audit('api_key.created', { keyId: created.apiKey.id, actingKeyId: null, organizationId: null });
        return { key: created.secret, id: created.apiKey.id, label: created.apiKey.name, email: created.user.email, organizationId: null } satisfies CreateApiKeyAnswer;
      }
      case 'list-api-keys': {
        const email = text('email');
        const organizationId = text('organizationId');
        const records = email !== null ? await keys.listKeysForEmail(em, email) : organizationId !== null ? await keys.listKeysForOrganization(em, organizationId) : null;
        if (records === null) throw new AdminCommandError('list-api-keys needs an email or an organization');
        return { keys: records.map(listed) };
      }
      case 'revoke-api-key': {
        const revoked = await keys.revokeKeyAsOperator(em, text('id') ?? '');
        audit('api_key.revoked', { keyId: revoked.id, actingKeyId: null, organizationId: revoked.organizationId });
        return { key: listed(revoked) } satisfies RevokeApiKeyAnswer;
      }
    }
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof ValidationError) throw new AdminCommandError(error.message);
    throw error;
  }
}

const MAX_BODY = 16 * 1024;

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

export type AdminSocket = Readonly<{ path: string; close(): Promise<void> }>;

/**
 * Listens on the admin socket, in the embedded database's private socket folder (the data directory,
 * or a mkdtemp folder when its path is too long for a socket): mode 0700, this user's, so no other
 * user can reach or replace it. The caller holds the data directory's lock, so a leftover socket is stale.
 */
export async function startAdminSocket(db: Database, logger: Logger, forgetApiKey: (keyId: string) => void): Promise<AdminSocket> {
  if (!db.embeddedSocketDir) throw new Error('the admin socket belongs to an embedded database');
  const socketPath = path.join(db.embeddedSocketDir, 'gateway.sock');
  fs.rmSync(socketPath, { force: true });
  const server = http.createServer(async (req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    try {
      const command = req.url?.slice(1);
      if (req.method === 'POST' && (command === 'create-api-key' || command === 'list-api-keys' || command === 'revoke-api-key')) {
        const audit = (event: string, fields: Record<string, string | null>) => logger.info({ audit: event, ...fields, via: 'cli' }, event);
        try {
          const result = await runKeyCommand(db.orm.em.fork(), command, await readJson(req), audit);
          if (command === 'revoke-api-key') forgetApiKey((result as RevokeApiKeyAnswer).key.id);
          return answer(200, result);
        } catch (error) {
          if (error instanceof AdminCommandError) return answer(400, { message: error.message });
          throw error;
        }
      }
      if (req.method === 'POST' && req.url === '/migrate') {
        return answer(200, { applied: await db.migrate() });
      }
      return answer(404, { message: 'Not Found' });
    } catch (error) {
      logger.error({ err: loggable(error) }, 'admin socket: command failed');
      return answer(500, { message: 'The running server could not do that; see its log' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Created 0600 from the start: bind() happens inside listen(), under this umask.
    const umask = process.umask(0o177);
    try {
      server.listen({ path: socketPath, exclusive: true }, () => resolve());
    } finally {
      process.umask(umask);
    }
  });
  db.advertiseAdminSocket(socketPath);
  return Object.freeze({
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        fs.rmSync(socketPath, { force: true });
      }),
  });
}

/** The CLI side: one command to the running server. Refuses a socket that is not this user's. */
export async function callAdminSocket<T>(socketPath: string, command: AdminCommandName, body: unknown = {}): Promise<T> {
  const stat = fs.statSync(socketPath);
  const folder = fs.statSync(path.dirname(socketPath));
  const uid = process.getuid?.();
  if (!stat.isSocket() || (uid !== undefined && (stat.uid !== uid || folder.uid !== uid)) || folder.mode & 0o077) {
    throw new Error(`${socketPath} is not a socket owned by this user in a folder only this user can enter`);
  }
  const payload = JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = http.request(
      { socketPath, path: `/${command}`, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          const parsed = JSON.parse(text || '{}') as T & { message?: string };
          if (res.statusCode === 200) resolve(parsed);
          else if (res.statusCode === 400) reject(new AdminCommandError(parsed.message));
          else reject(new Error(parsed.message ?? `the running server answered ${res.statusCode}`));
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('the running server did not answer in 30 s')));
    req.end(payload);
  });
}
