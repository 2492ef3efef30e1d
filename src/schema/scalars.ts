import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { builder } from './builder.js';

builder.addScalarType('DateTime', DateTimeResolver, {
  description: 'An RFC 3339 date-time in UTC, e.g. 2026-01-01T12:00:00.123Z',
});
builder.addScalarType('JSON', JSONResolver, {});
