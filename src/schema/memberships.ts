// Members of an organization: the `members` connection, `addMember` and `removeMember`.
import { addMember, countMembers, pageMembers, removeMember, type Member } from '../memberships/memberships.js';
import { LastOwnerError, NotAllowedError, NotFoundError, ValidationError } from '../organizations/errors.js';
import type { Actor } from '../organizations/organizations.js';
import { ROLE_NAMES, roleFromName } from '../organizations/roles.js';
import { PAGE } from '../pagination.js';
import { builder } from './builder.js';
import { connectionPage } from './errors.js';
import { actorOf } from './actor.js';
import { OrganizationRoleEnum, OrganizationType } from './organization.js';

// The member as other members see them: not a `User` (whose organizations only its own viewer may list).
const MemberProfileType = builder.objectRef<Member>('MemberProfile').implement({
  description: 'A member as the other members of an organization see them.',
  fields: (t) => ({
    id: t.exposeID('userId', { description: "The user's id (what removeMember takes)." }),
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', description: 'When the user was created.', resolve: (member) => member.userCreatedAt }),
  }),
});

const MemberType = builder.objectRef<Member>('Membership').implement({
  description: "A user's membership of an organization.",
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The membership (not the user).' }),
    user: t.field({ type: MemberProfileType, resolve: (member) => member }),
    role: t.field({ type: OrganizationRoleEnum, resolve: (member) => ROLE_NAMES[member.role] }),
    joinedAt: t.field({ type: 'DateTime', description: 'When they became a member.', resolve: (member) => member.joinedAt }),
    updatedAt: t.field({ type: 'DateTime', description: 'When the membership last changed.', resolve: (member) => member.updatedAt }),
  }),
});

builder.objectField(OrganizationType, 'members', (t) =>
  t.connection(
    {
      type: MemberType,
      description:
        `The members, earliest first, a page at a time (${PAGE.default} unless \`first\` or \`last\` says otherwise, at most ${PAGE.max}); ` +
        'visible to members of the organization only (anyone else gets an empty page).',
      resolve: async (organization, args, { em, viewer }) => {
        if (!viewer) return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null }, organizationId: organization.id, actor: null };
        const actor = actorOf(viewer);
        return { ...(await connectionPage(() => pageMembers(em, actor, organization.id, args))), organizationId: organization.id, actor };
      },
    },
    {
      name: 'MembershipConnection',
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many members the organization has (counted only when asked for; 0 for a non-member).',
          resolve: (connection, _args, { em }) => {
            const { organizationId, actor } = connection as unknown as { organizationId: string; actor: Actor | null };
            return actor ? countMembers(em, actor, organizationId) : 0;
          },
        }),
      }),
    },
    { name: 'MembershipEdge' },
  ),
);

const AddMemberInput = builder.inputType('AddMemberInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    email: t.string({ required: true, description: 'The e-mail address of a user who already has an account.' }),
    role: t.field({ type: OrganizationRoleEnum, required: true, description: 'At most your own role.' }),
  }),
});

builder.mutationField('addMember', (t) =>
  t.field({
    type: MemberType,
    description: 'Add an existing user to an organization. Admins and owners, with a role at most their own.',
    args: { input: t.arg({ type: AddMemberInput, required: true }) },
    errors: { types: [NotFoundError, NotAllowedError, ValidationError], union: { name: 'AddMemberResult' } },
    resolve: (_root, { input }, { em, viewer }) =>
      addMember(em, actorOf(viewer), { organizationId: String(input.organizationId), email: input.email, role: roleFromName(input.role) }),
  }),
);

const RemoveMemberInput = builder.inputType('RemoveMemberInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    userId: t.id({ required: true, description: 'The member to remove; your own id to leave.' }),
  }),
});

builder.mutationField('removeMember', (t) =>
  t.field({
    type: MemberType,
    description:
      'Remove a member (your own id: leave). Admins remove users and admins, owners anyone; the last owner of an organization cannot be removed. Returns the removed membership.',
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    errors: { types: [NotFoundError, NotAllowedError, LastOwnerError], union: { name: 'RemoveMemberResult' } },
    resolve: (_root, { input }, { em, viewer }) => removeMember(em, actorOf(viewer), String(input.organizationId), String(input.userId)),
  }),
);
