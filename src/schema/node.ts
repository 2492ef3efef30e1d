// Relay's Object Identification: the Node interface, node(id:) and nodes(ids:). Ids stay the plain
// UUIDs every other field, the REST API and TR-Organization use (unique across types, so one id names
// one object). A node is visible exactly when its type's own query shows it: an organization to its
// members, as organization(id:) does; a user to themselves only, as viewer does.
import { Organization } from '../entities/organization.entity.js';
import { User } from '../entities/user.entity.js';
import { findOrganizationForMember } from '../organizations/organizations.js';
import type { Context } from '../context.js';
import { PAGE } from '../pagination.js';
import { actorOf } from './actor.js';
import { builder } from './builder.js';
import { badUserInput } from './errors.js';

export const NodeInterface = builder.interfaceRef<Organization | User>('Node').implement({
  description: "An object node(id:) can fetch again by its id (Relay's Object Identification). Ids are plain UUIDs, the ones the REST API uses.",
  resolveType: (value) => (value instanceof Organization ? 'Organization' : 'User'),
  fields: (t) => ({ id: t.exposeID('id') }),
});

/** The organization or user with this id, when the viewer may see it; null otherwise. */
async function findNode({ em, viewer }: Context, id: string): Promise<Organization | User | null> {
  if (!viewer) return null;
  if (viewer.user && viewer.user.id === id.toLowerCase()) return viewer.user;
  return findOrganizationForMember(em, actorOf(viewer), id);
}

builder.queryField('node', (t) =>
  t.field({
    type: NodeInterface,
    nullable: true,
    description: 'The organization (of which you are a member) or the user (yourself) with this id; null for anything else.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => findNode(context, String(id)),
  }),
);

builder.queryField('nodes', (t) =>
  t.field({
    type: [NodeInterface],
    nullable: { list: false, items: true },
    description: `node(id:) for each id, in order (at most ${PAGE.max}).`,
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, { ids }, context) => {
      if (ids.length > PAGE.max) throw badUserInput(`nodes takes at most ${PAGE.max} ids, got ${ids.length}`, 'ids');
      const found: Array<Organization | User | null> = [];
      for (const id of ids) found.push(await findNode(context, String(id)));
      return found;
    },
  }),
);
