// Live updates: `subscription { organizationEvents }`, served over Server-Sent Events by Yoga. The
// events and who hears them: src/live/.
import { GraphQLError } from 'graphql';
import type { OrganizationEvent } from '../live/events.js';
import { TooManyStreamsError } from '../live/hub.js';
import { findOrganizationForMember } from '../organizations/organizations.js';
import { actorOf } from './actor.js';
import { builder } from './builder.js';
import { OrganizationType } from './organization.js';

builder.subscriptionType({});

const OrganizationEventKindEnum = builder.enumType('OrganizationEventKind', {
  values: {
    CREATED: { description: 'You created an organization (you are its owner).' },
    UPDATED: { description: 'It was renamed, or its partner configuration changed.' },
    DELETED: { description: 'It was deleted: gone from every list and query.' },
    MEMBER_ADDED: { description: 'A member was added (`userId`), perhaps you.' },
    MEMBER_REMOVED: { description: 'A member was removed or left (`userId`); when it is you, the last event you hear of it.' },
  } as const,
});

const OrganizationEventType = builder.objectRef<OrganizationEvent>('OrganizationEvent').implement({
  description: 'Something happened to one of your organizations.',
  fields: (t) => ({
    kind: t.field({ type: OrganizationEventKindEnum, resolve: (event) => event.kind }),
    organizationId: t.exposeID('organizationId'),
    organization: t.field({
      type: OrganizationType,
      nullable: true,
      description: 'The organization as it is now; null once it is deleted or you are no longer a member.',
      resolve: (event, _args, { em, viewer }) => (viewer ? findOrganizationForMember(em.fork(), actorOf(viewer), event.organizationId) : null),
    }),
    userId: t.exposeID('userId', { nullable: true, description: 'The member added or removed (and the creator, for CREATED).' }),
    at: t.field({ type: 'DateTime', description: 'When the change was made.', resolve: (event) => new Date(event.at) }),
  }),
});

builder.subscriptionField('organizationEvents', (t) =>
  t.field({
    type: OrganizationEventType,
    description:
      "Events of your organizations, in order, from any server sharing the database: created, updated, deleted, a member added or removed. Rights are checked for each event; the stream ends when your key is revoked or expires. Over Server-Sent Events: POST /graphql with `Accept: text/event-stream`. At most LIVE_STREAMS_PER_KEY open streams per key and server.",
    subscribe: async (_root, _args, { viewer, live }) => {
      const actor = actorOf(viewer);
      if (!live) throw new GraphQLError('Live updates are not available on this server', { extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } } });
      try {
        return await live.open(actor);
      } catch (error) {
        if (error instanceof TooManyStreamsError) throw new GraphQLError(error.message, { extensions: { code: 'TOO_MANY_STREAMS', http: { status: 429 } } });
        throw error;
      }
    },
    resolve: (event) => event,
  }),
);
