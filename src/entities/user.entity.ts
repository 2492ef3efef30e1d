import { randomUUID } from 'node:crypto';
import { defineEntity, type Opt } from '@mikro-orm/core';

export class User {
  id: string = randomUUID();
  email!: string;
  name: string | null = null;
  createdAt: Date & Opt = new Date();
  updatedAt: Date & Opt = new Date();
}

export const UserSchema = defineEntity({
  class: User,
  tableName: 'users',
  properties: (p) => ({
    id: p.uuid().primary(),
    email: p.text().unique('users_email_key'),
    name: p.text().nullable(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3).onUpdate(() => new Date()),
  }),
});
