// The breaking-change check: the schema the code builds against the last released one (releases/),
// with GraphQL Inspector. A breaking change passes only when CHANGELOG.md records it on purpose: the
// section of the version being made (package.json) names its path in backticks, e.g. `User.organizations`.
import { readdirSync, readFileSync } from 'node:fs';
import { diff, CriticalityLevel, type Change } from '@graphql-inspector/core';
import { buildSchema } from 'graphql';

export type CompatReport = Readonly<{
  released: string;
  breaking: Change[];
  /** Breaking changes the changelog does not record: each fails the check. */
  unrecorded: Change[];
  dangerous: Change[];
  safe: Change[];
}>;

const semver = (v: string) => v.split('.').map(Number);
const newer = (a: string, b: string) => {
  const [x, y] = [semver(a), semver(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]! ? a : b;
  return a;
};

/** The newest releases/<version>.graphql. */
export function lastReleased(): { version: string; sdl: string } {
  const versions = readdirSync('releases').filter((f) => /^\d+\.\d+\.\d+\.graphql$/.test(f)).map((f) => f.replace(/\.graphql$/, ''));
  const version = versions.reduce(newer);
  return { version, sdl: readFileSync(`releases/${version}.graphql`, 'utf8') };
}

/** The CHANGELOG.md section of `version` (from its `## <version>` heading to the next `## `). */
export function changelogSection(changelog: string, version: string): string {
  const start = changelog.search(new RegExp(`^## ${version.replaceAll('.', '\\.')}\\b`, 'm'));
  if (start < 0) return '';
  const next = changelog.slice(start + 3).search(/^## /m);
  return next < 0 ? changelog.slice(start) : changelog.slice(start, start + 3 + next);
}

export async function checkCompatibility(currentSdl: string, changelog: string, version: string): Promise<CompatReport> {
  const released = lastReleased();
  const changes = await diff(buildSchema(released.sdl), buildSchema(currentSdl));
  const of = (level: CriticalityLevel) => changes.filter((c) => c.criticality.level === level);
  const section = changelogSection(changelog, version);
  const breaking = of(CriticalityLevel.Breaking);
  return Object.freeze({
    released: released.version,
    breaking,
    unrecorded: breaking.filter((c) => !c.path || !section.includes(`\`${c.path}\``)),
    dangerous: of(CriticalityLevel.Dangerous),
    safe: of(CriticalityLevel.NonBreaking),
  });
}

export function describeUnrecorded(report: CompatReport, version: string): string {
  return (
    `Breaking change(s) against the released schema ${report.released}, not recorded in CHANGELOG.md under "## ${version}":\n` +
    report.unrecorded.map((c) => `  - ${c.path ?? '(schema)'}: ${c.message}`).join('\n') +
    '\nDeprecate first (@deprecated, one release), then remove and name the path in backticks in the changelog section.'
  );
}
