import { Organization } from '../entities/organization.entity.js';
import {
  createOrganization,
  findOrganizationForMember,
  organizationAccess,
  OrganizationNameTakenError,
  ValidationError,
} from '../organizations/organizations.js';
import { builder } from './builder.js';
import { RateLimitedError } from '../organizations/rate-limit.js';
import { rateLimited, unauthenticated } from './errors.js';

export const OrganizationType = builder.objectType(Organization, {
  name: 'Organization',
  description: 'An organization: owns datasets and has members. Its creator is its first owner.',
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
      'Create a new organization. The authenticated user who creates the organization will be the default owner of the organization. Creates are limited per user (by default 30 at once, then 60 a minute); over the limit the mutation fails with `extensions.code: "RATE_LIMITED"` and `extensions.retryAfterSeconds` (HTTP 429, `Retry-After`) and creates nothing.',
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    errors: {
      types: [OrganizationNameTakenError, ValidationError],
      union: { name: 'CreateOrganizationResult' },
    },
    resolve: async (_root, { input }, { em, viewer, createRateLimit }) => {
      if (!viewer) throw unauthenticated();
      try {
        return await createOrganization(em, viewer.user, input.name, input.idempotencyKey, createRateLimit);
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
    resolve: (_root, { id }, { em, viewer }) => (viewer ? findOrganizationForMember(em, viewer.user.id, String(id)) : null),
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
    resolve: (_root, { id }, { em, viewer }) => organizationAccess(em, viewer?.user.id ?? null, String(id)),
  }),
);
