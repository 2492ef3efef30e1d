import { printSchema, lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import './organization.js';
import './memberships.js';
import './viewer.js';
import './api-keys.js';
import './live.js';

export const schema = builder.toSchema();

/** The SDL committed as schema.graphql. */
export function printSchemaSDL(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
