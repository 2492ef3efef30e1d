import { Organization } from '../entities/organization.entity.js';
import {
  createOrganization,
  deleteOrganization,
  findOrganizationForMember,
  NotAllowedError,
  NotFoundError,
  organizationAccess,
  OrganizationNameTakenError,
  roleIn,
  updateOrganization,
  ValidationError,
} from '../organizations/organizations.js';
import { ROLE_NAMES } from '../organizations/roles.js';
import { builder } from './builder.js';
import { RateLimitedError } from '../organizations/rate-limit.js';
import { actorOf, maybeActor } from './actor.js';
import { rateLimited } from './errors.js';
import { NodeInterface } from './node.js';


export const OrganizationRoleEnum = builder.enumType('OrganizationRole', {
  description: "A member's role in an organization (upstream's numbers: owner 2, admin 1, user 0). What each may do: README, \"Roles\".",
  values: {
    OWNER: { value: 'OWNER', description: 'Everything, including renaming and deleting the organization and removing owners.' },
    ADMIN: { value: 'ADMIN', description: 'Adds and removes users and admins.' },
    USER: { value: 'USER', description: 'Sees the organization and its members.' },
  } as const,
});

export const OrganizationType = builder.objectType(Organization, {
  name: 'Organization',
  description: 'An organization: owns datasets and has members. Its creator is its first owner.',
  interfaces: [NodeInterface],
  isTypeOf: (value) => value instanceof Organization,
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Unique identifier of the organization, a UUID generated on create' }),
    name: t.exposeString('name', { description: 'Name of the organization, unique' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'Timestamp of the creation of the organization' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'Timestamp of the last update of the organization' }),
    deleted: t.exposeInt('deleted', {
      description:
        'Flag to indicate if the organization has been deleted (0 live, 1 deleted). Deletes are handled async after the flag is set so as to avoid expensive search index compaction.',
    }),
    registerable: t.exposeBoolean('registerable', {
      nullable: true,
      description: 'Flag to indicate whether or not new users may join the organization. Default is true.',
    }),
    partnerConfiguration: t.expose('partnerConfiguration', {
      type: 'JSON',
      description: 'Configuration of the organization for the Trieve partner program.',
    }),
    viewerRole: t.field({
      type: OrganizationRoleEnum,
      nullable: true,
      description: "The viewer's role here, capped by the API key's role (a read key acts as USER); null when the viewer is not a member.",
      resolve: async (organization, _args, { em, viewer }) => {
        const role = viewer ? await roleIn(em, actorOf(viewer), organization.id) : null;
        return role === null ? null : ROLE_NAMES[role];
      },
    }),
  }),
});

const CreateOrganizationInput = builder.inputType('CreateOrganizationInput', {
  fields: (t) => ({
    name: t.string({
      required: true,
      description:
        'The arbitrary name which will be used to identify the organization. This name must be unique: 1 to 255 characters, not blank, no control characters.',
    }),
    idempotencyKey: t.string({
      required: false,
      description:
        'Optional. Retrying with the same key and the same input returns the organization the first request created (for 24 hours) instead of creating another; the same key with other input is a ValidationError.',
    }),
  }),
});

builder.mutationField('createOrganization', (t) =>
  t.field({
    type: Organization,
    description:
      'Create a new organization. The authenticated user who creates the organization will be the default owner of the organization (an organization\'s API key cannot create one: NotAllowedError). Creates are limited per user (by default 30 at once, then 60 a minute); over the limit the mutation fails with `extensions.code: "RATE_LIMITED"` and `extensions.retryAfterSeconds` (HTTP 429, `Retry-After`) and creates nothing.',
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    errors: {
      types: [OrganizationNameTakenError, ValidationError, NotAllowedError],
      union: { name: 'CreateOrganizationResult' },
    },
    resolve: async (_root, { input }, { em, viewer, createRateLimit, createQueue }) => {
      try {
        return await createOrganization(em, actorOf(viewer), input.name, input.idempotencyKey, createRateLimit, createQueue);
      } catch (error) {
        throw error instanceof RateLimitedError ? rateLimited(error) : error;
      }
    },
  }),
);

builder.queryField('organization', (t) =>
  t.field({
    type: Organization,
    nullable: true,
    description: 'The organization with this id, if the viewer is a member of it; otherwise null.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { em, viewer }) => (viewer ? findOrganizationForMember(em, actorOf(viewer), String(id)) : null),
  }),
);

const OrganizationAccessEnum = builder.enumType('OrganizationAccess', {
  description: 'How the viewer stands with an organization.',
  values: {
    MEMBER: { description: 'The viewer is a member of this live organization.' },
    NOT_MEMBER: { description: 'The organization exists and is live, but the viewer is not a member.' },
    NOT_FOUND: { description: 'No live organization has this id.' },
  } as const,
});

builder.queryField('organizationAccess', (t) =>
  t.field({
    type: OrganizationAccessEnum,
    nullable: true,
    description:
      "Whether the viewer may act in the organization with this id (what the REST API's TR-Organization header checks). Without authentication it is NOT_FOUND when no live organization has this id, and null otherwise.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, { em, viewer }) => organizationAccess(em, maybeActor(viewer), String(id)),
  }),
);

const UpdateOrganizationInput = builder.inputType('UpdateOrganizationInput', {
  fields: (t) => ({
    id: t.id({ required: true, description: 'The organization to change.' }),
    name: t.string({ required: false, description: 'A new name, under the same rules and uniqueness as a create; omitted or null keeps the name.' }),
    partnerConfiguration: t.field({
      type: 'JSON',
      required: false,
      description: 'A JSON object replacing the partner configuration (no merge); omitted or null keeps it.',
    }),
  }),
});

builder.mutationField('updateOrganization', (t) =>
  t.field({
    type: Organization,
    description: 'Rename an organization or replace its partner configuration. Owners only.',
    args: { input: t.arg({ type: UpdateOrganizationInput, required: true }) },
    errors: {
      types: [OrganizationNameTakenError, ValidationError, NotFoundError, NotAllowedError],
      union: { name: 'UpdateOrganizationResult' },
    },
    resolve: (_root, { input }, { em, viewer }) =>
      updateOrganization(em, actorOf(viewer), String(input.id), { name: input.name, partnerConfiguration: input.partnerConfiguration }),
  }),
);

builder.mutationField('deleteOrganization', (t) =>
  t.field({
    type: Organization,
    description:
      'Delete an organization (the soft delete upstream does: `deleted` becomes 1). Owners only. It disappears from every list and query at once, its members lose access to it, and its name is free again. Returns it as deleted.',
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError, NotAllowedError], union: { name: 'DeleteOrganizationResult' } },
    resolve: (_root, { id }, { em, viewer }) => deleteOrganization(em, actorOf(viewer), String(id)),
  }),
);
