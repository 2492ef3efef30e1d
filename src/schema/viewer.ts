import { User } from '../entities/user.entity.js';
import { countOrganizationsForMember, pageOrganizationsForMember } from '../organizations/organizations.js';
import { PAGE } from '../pagination.js';
import { builder } from './builder.js';
import { connectionPage } from './errors.js';
import { NodeInterface } from './node.js';
import { OrganizationType } from './organization.js';

builder.objectType(User, {
  name: 'User',
  description: 'A person who holds API keys and belongs to organizations.',
  interfaces: [NodeInterface],
  isTypeOf: (value) => value instanceof User,
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
    organizations: t.connection(
      {
        type: OrganizationType,
        description:
          `The live organizations this user is a member of, oldest membership first, a page at a time: \`first\`/\`after\` forwards, ` +
          `\`last\`/\`before\` backwards (not both). ${PAGE.default} per page unless \`first\` or \`last\` says otherwise, ` +
          `at most ${PAGE.max} (more is an error). Cursors are opaque and stable: organizations joined meanwhile never shift a page.`,
        resolve: async (user, args, { em }) => ({ ...(await connectionPage(() => pageOrganizationsForMember(em, user.id, args))), userId: user.id }),
      },
      {
        name: 'OrganizationConnection',
        fields: (c) => ({
          totalCount: c.int({
            description: 'How many live organizations the user is a member of (counted only when asked for).',
            resolve: (connection, _args, { em }) => countOrganizationsForMember(em, (connection as unknown as { userId: string }).userId),
          }),
        }),
      },
      { name: 'OrganizationEdge' },
    ),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: User,
    nullable: true,
    description: "The user the API key belongs to; null when the request is not authenticated, or authenticated by an organization's key (which belongs to no user).",
    resolve: (_root, _args, { viewer }) => viewer?.user ?? null,
  }),
);
