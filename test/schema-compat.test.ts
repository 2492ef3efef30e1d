// No breaking change reaches clients silently (README, "Schema changes").
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { checkCompatibility, describeUnrecorded } from './schema-compat.js';

const current = readFileSync('schema.graphql', 'utf8');
const changelog = readFileSync('CHANGELOG.md', 'utf8');
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

it('schema.graphql has no breaking change against the last released schema that CHANGELOG.md does not record', async () => {
  const report = await checkCompatibility(current, changelog, version);
  // Dangerous and safe changes pass; they are listed for the reviewer.
  for (const c of [...report.breaking.map((b) => ['recorded breaking', b] as const), ...report.dangerous.map((d) => ['dangerous', d] as const), ...report.safe.map((s) => ['safe', s] as const)]) {
    console.info(`schema vs ${report.released}: ${c[0]}: ${c[1].path ?? ''} ${c[1].message}`);
  }
  expect(report.unrecorded, describeUnrecorded(report, version)).toEqual([]);
});

it('fails, naming the field, when a scratch change removes a field nobody recorded', async () => {
  const withoutName = current.replace(/^(type Organization implements Node \{[\s\S]*?)\n\s+"""Name of the organization, unique"""\n\s+name: String!\n/m, '$1\n');
  expect(withoutName).not.toBe(current);
  const report = await checkCompatibility(withoutName, changelog, version);
  expect(report.unrecorded.map((c) => c.path)).toEqual(['Organization.name']);
  expect(describeUnrecorded(report, version)).toContain("Organization.name: Field 'name' was removed from object type 'Organization'");
});

it('passes a dangerous or safe change without a record', async () => {
  const withField = current.replace('type Organization implements Node {', 'type Organization implements Node {\n  """A new field"""\n  slug: String\n');
  const report = await checkCompatibility(withField, changelog, version);
  expect(report.safe.map((c) => c.path)).toContain('Organization.slug');
  expect(report.unrecorded).toEqual(report.unrecorded.filter((c) => c.path !== 'Organization.slug'));
});
