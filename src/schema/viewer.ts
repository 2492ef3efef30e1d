import { User } from '../entities/user.entity.js';
import { listOrganizationsForMember } from '../organizations/organizations.js';
import { builder } from './builder.js';
import { OrganizationType } from './organization.js';

builder.objectType(User, {
  name: 'User',
  description: 'A person who holds API keys and belongs to organizations.',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
    organizations: t.field({
      type: [OrganizationType],
      description: 'The live organizations this user is a member of, oldest membership first.',
      resolve: (user, _args, { em }) => listOrganizationsForMember(em, user.id),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: User,
    nullable: true,
    description: 'The user the API key belongs to; null when the request is not authenticated.',
    resolve: (_root, _args, { viewer }) => viewer?.user ?? null,
  }),
);
