import { defineEntity } from '@mikro-orm/core';

/**
 * A server process with live update subscribers (src/live/), seen at `seenAt` (refreshed every few
 * seconds while it has any). Writes publish their events only while some process was seen lately, so a
 * deployment nobody subscribes to never pays for NOTIFY (its commit-time lock serializes notifying commits).
 */
export class LiveListener {
  id!: string;
  seenAt!: Date;
}

export const LiveListenerSchema = defineEntity({
  class: LiveListener,
  tableName: 'live_listeners',
  properties: (p) => ({
    id: p.uuid().primary(),
    seenAt: p.datetime(3),
  }),
});
