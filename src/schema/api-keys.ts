// API keys: `viewer.apiKeys`, `Organization.apiKeys`, `createApiKey`, `revokeApiKey`, `rotateApiKey`.
// Who may do what is the domain's (src/api-keys/api-keys.ts, rules in src/organizations/roles.ts).
import {
  createKey,
  keyStatus,
  pageOrganizationKeys,
  pageOwnKeys,
  revokeKey,
  rotateKey,
  MAX_GRACE_PERIOD_SECONDS,
  type ApiKeyRecord,
  type CreatedKey,
} from '../api-keys/api-keys.js';
import type { KeyScope } from '../api-keys/format.js';
import { User } from '../entities/user.entity.js';
import { NotAllowedError, NotFoundError, ValidationError } from '../organizations/errors.js';
import { findOrganizationForMember } from '../organizations/organizations.js';
import type { Role } from '../organizations/roles.js';
import { PAGE } from '../pagination.js';
import { builder } from './builder.js';
import { connectionPage } from './errors.js';
import { actorOf } from './actor.js';
import { OrganizationType } from './organization.js';

export const ApiKeyRoleEnum = builder.enumType('ApiKeyRole', {
  description: "An API key's role, which caps what the key may do (upstream's numbers: read 0, admin 1, owner 2).",
  values: {
    READ: { value: 0, description: 'Reads; acts as a USER member wherever it acts. Manages no keys (but may revoke itself).' },
    ADMIN: { value: 1, description: 'Acts at most as an ADMIN.' },
    OWNER: { value: 2, description: "Acts with the full role of its user (or, for an organization's key, as an owner)." },
  } as const,
});

const ApiKeyScopeEnum = builder.enumType('ApiKeyScope', {
  description: 'Whom a key belongs to.',
  values: {
    USER: { value: 'user', description: "A user's key: acts as that user in every organization they belong to, capped by its role." },
    ORGANIZATION: { value: 'organization', description: "An organization's key: acts only in that organization, with its role; outlives the member who made it." },
  } as const,
});

const ApiKeyStatusEnum = builder.enumType('ApiKeyStatus', {
  values: {
    ACTIVE: { description: 'Accepted.' },
    EXPIRED: { description: 'Its expiry (or a rotation\'s grace period) has passed: refused.' },
    REVOKED: { description: 'Revoked: refused.' },
  } as const,
});

export const ApiKeyType = builder.objectRef<ApiKeyRecord>('ApiKey').implement({
  description: 'An API key as its managers see it. The secret is shown once, when the key is made; it is stored only as a hash.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.field({ type: ApiKeyRoleEnum, resolve: (key) => key.role }),
    scope: t.field({ type: ApiKeyScopeEnum, resolve: (key) => key.scope }),
    organization: t.field({
      type: OrganizationType,
      nullable: true,
      description: "The organization of an organization's key (null for a user's key).",
      resolve: (key, _args, { em, viewer }) => (key.organizationId && viewer ? findOrganizationForMember(em, actorOf(viewer), key.organizationId) : null),
    }),
    hint: t.exposeString('hint', {
      nullable: true,
      description: 'Its prefix and last four characters (`tro_…Ab12`), to recognise it; null for keys made before 0.3.0.',
    }),
    status: t.field({ type: ApiKeyStatusEnum, resolve: (key) => keyStatus(key) }),
    createdAt: t.field({ type: 'DateTime', resolve: (key) => key.createdAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When it was made, revoked or rotated (not when it was used).', resolve: (key) => key.updatedAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, description: 'Null: never.', resolve: (key) => key.expiresAt }),
    lastUsedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When a request last used it, to the minute (written at most once a minute); null: never used.',
      resolve: (key) => key.lastUsedAt,
    }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => key.revokedAt }),
  }),
});

const CreatedApiKeyType = builder.objectRef<CreatedKey>('CreatedApiKey').implement({
  description: 'A new key and its secret. The secret is shown only this once: store it now.',
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyType, resolve: (created) => created.apiKey }),
    secret: t.exposeString('secret', { description: 'Send it as `Authorization: Bearer <secret>`.' }),
  }),
});

/** One connection type for both lists of keys. */
const ApiKeyConnection = builder.connectionObject({ type: ApiKeyType, name: 'ApiKeyConnection' }, { name: 'ApiKeyEdge' });

const listDescription = (whose: string) =>
  `${whose}, oldest first, a page at a time (${PAGE.default} unless \`first\` or \`last\` says otherwise, at most ${PAGE.max}). ` +
  'Revoked keys only with `includeRevoked: true`. Cursors are key ids.';

builder.objectField(User, 'apiKeys', (t) =>
  t.connection(
    {
      type: ApiKeyType,
      nullable: true,
      description: listDescription("The user's own keys, for the user themselves (null for anyone else)"),
      args: { includeRevoked: t.arg.boolean({ required: false, defaultValue: false }) },
      resolve: async (user, args, { em, viewer }) => {
        if (!viewer || viewer.user?.id !== user.id) return null;
        return connectionPage(() => pageOwnKeys(em, actorOf(viewer), args, { includeRevoked: args.includeRevoked ?? false }));
      },
    },
    ApiKeyConnection,
  ),
);

builder.objectField(OrganizationType, 'apiKeys', (t) =>
  t.connection(
    {
      type: ApiKeyType,
      nullable: true,
      description: listDescription("The organization's keys, for its admins and owners (null for anyone else)"),
      args: { includeRevoked: t.arg.boolean({ required: false, defaultValue: false }) },
      resolve: async (organization, args, { em, viewer }) =>
        viewer ? connectionPage(() => pageOrganizationKeys(em, actorOf(viewer), organization.id, args, { includeRevoked: args.includeRevoked ?? false })) : null,
    },
    ApiKeyConnection,
  ),
);

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'What the key is for (at most 255 characters, no control characters; not unique).' }),
    role: t.field({ type: ApiKeyRoleEnum, required: true, description: 'At most your role where the key will act.' }),
    expiresAt: t.field({ type: 'DateTime', required: false, description: 'When it stops working (in the future); omitted: never.' }),
    organizationId: t.id({
      required: false,
      description: "Make an organization's key (admins and owners there). Omitted: a key of your own (not with an organization's key).",
    }),
  }),
});

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreatedApiKeyType,
    description:
      "Make an API key: your own (acts as you, capped by its role) or, with `organizationId`, an organization's. Its role is at most yours where it acts; read keys make no keys. The secret is in the answer, and nowhere ever again.",
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError, NotAllowedError], union: { name: 'CreateApiKeyResult' } },
    resolve: async (_root, { input }, { em, viewer, audit }) => {
      const actor = actorOf(viewer);
      const created = await createKey(em, actor, {
        name: input.name,
        role: input.role as Role,
        expiresAt: input.expiresAt ?? null,
        organizationId: input.organizationId == null ? null : String(input.organizationId),
      });
      audit('api_key.created', { keyId: created.apiKey.id, actingKeyId: actor.keyId, organizationId: created.apiKey.organizationId });
      return created;
    },
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.field({
    type: ApiKeyType,
    description:
      'Revoke a key: refused from then on (at once by this server, by every server within API_KEY_CACHE_SECONDS). Any key may revoke itself; otherwise it takes an admin or owner key whose role is at least the revoked key\'s. Revoking a revoked key changes nothing.',
    args: {
      id: t.arg.id({ required: true }),
      organizationId: t.arg.id({ required: false, description: "Only if it is this organization's key (NotFoundError otherwise)." }),
      scope: t.arg({ type: ApiKeyScopeEnum, required: false, description: 'Only if it is a key of this kind (NotFoundError otherwise).' }),
    },
    errors: { types: [NotFoundError, NotAllowedError], union: { name: 'RevokeApiKeyResult' } },
    resolve: async (_root, args, { em, viewer, apiKeyCache, audit, live }) => {
      const actor = actorOf(viewer);
      const expect = { organizationId: args.organizationId == null ? null : String(args.organizationId), scope: (args.scope ?? null) as KeyScope | null };
      const revoked = await revokeKey(em, actor, String(args.id), expect);
      apiKeyCache.forget(revoked.id);
      live?.endStreamsOfKey(revoked.id);
      audit('api_key.revoked', { keyId: revoked.id, actingKeyId: actor.keyId, organizationId: revoked.organizationId });
      return revoked;
    },
  }),
);

const RotateApiKeyInput = builder.inputType('RotateApiKeyInput', {
  fields: (t) => ({
    id: t.id({ required: true, description: 'The active key to replace.' }),
    gracePeriodSeconds: t.int({
      required: true,
      description: `How long the old key keeps working beside its successor: 0 (it stops now) to ${MAX_GRACE_PERIOD_SECONDS} (7 days).`,
    }),
  }),
});

builder.mutationField('rotateApiKey', (t) =>
  t.field({
    type: CreatedApiKeyType,
    description:
      'Replace a key: a successor with the same name, role, scope and expiry (its secret in the answer, shown once), and the old key expiring after the grace period. Takes what making a key of that role there takes.',
    args: { input: t.arg({ type: RotateApiKeyInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError, NotAllowedError], union: { name: 'RotateApiKeyResult' } },
    resolve: async (_root, { input }, { em, viewer, apiKeyCache, audit }) => {
      const actor = actorOf(viewer);
      const rotated = await rotateKey(em, actor, String(input.id), input.gracePeriodSeconds);
      apiKeyCache.forget(rotated.previous.id);
      audit('api_key.rotated', {
        keyId: rotated.previous.id,
        successorId: rotated.apiKey.id,
        actingKeyId: actor.keyId,
        organizationId: rotated.apiKey.organizationId,
        expiresAt: rotated.previous.expiresAt?.toISOString() ?? null,
      });
      return rotated;
    },
  }),
);
