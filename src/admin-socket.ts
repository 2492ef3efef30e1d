// The embedded server's admin socket: while a server holds an embedded data directory, the CLI's
// database commands (create-api-key, migrate) run inside that server, through its own pool and ORM,
// so nothing ever opens the PGlite files twice and no transaction interleaves with the server's.
//
// It is a Unix domain socket (never TCP: nothing off this machine can reach it), created with mode
// 0600 in a folder of mode 0700 (see startAdminSocket), and named in the directory's lock file. The CLI only
// uses a socket owned by its own user. The protocol is HTTP with JSON bodies, two routes.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createApiKey } from './auth/api-keys.js';
import { loggable } from './db/errors.js';
import type { Database } from './db/orm.js';
import { ApiKeyRole, type ApiKeyRoleName } from './entities/api-key.entity.js';
import type { Logger } from './logger.js';

export type CreateApiKeyRequest = Readonly<{ email: string; label: string; role: ApiKeyRoleName; expiresAt: string | null }>;
export type CreateApiKeyAnswer = Readonly<{ key: string; label: string; email: string }>;

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
export async function startAdminSocket(db: Database, logger: Logger): Promise<AdminSocket> {
  if (!db.embeddedSocketDir) throw new Error('the admin socket belongs to an embedded database');
  const socketPath = path.join(db.embeddedSocketDir, 'gateway.sock');
  fs.rmSync(socketPath, { force: true });
  const server = http.createServer(async (req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    try {
      if (req.method === 'POST' && req.url === '/create-api-key') {
        const body = (await readJson(req)) as Partial<CreateApiKeyRequest>;
        if (typeof body.email !== 'string' || typeof body.label !== 'string' || !(body.role && Object.hasOwn(ApiKeyRole, body.role))) {
          return answer(400, { message: 'create-api-key needs email, label and a role (read, admin or owner)' });
        }
        const created = await createApiKey(db.orm.em.fork(), {
          email: body.email,
          label: body.label,
          role: body.role,
          expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
        });
        logger.info({ admin: 'create-api-key', label: created.apiKey.label }, 'API key created through the admin socket');
        return answer(200, { key: created.key, label: created.apiKey.label, email: created.user.email } satisfies CreateApiKeyAnswer);
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
export async function callAdminSocket<T>(socketPath: string, command: 'create-api-key' | 'migrate', body: unknown = {}): Promise<T> {
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
          else reject(new Error(parsed.message ?? `the running server answered ${res.statusCode}`));
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('the running server did not answer in 30 s')));
    req.end(payload);
  });
}
