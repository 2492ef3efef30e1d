// The README's configuration table and the code read the same variables.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

it('documents every environment variable the configuration reads, and no other', () => {
  const code = readFileSync('src/config.ts', 'utf8');
  const read = new Set([...code.matchAll(/env(?:\.|, ')([A-Z][A-Z_]+)/g)].map((m) => m[1]));
  const readme = readFileSync('README.md', 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
  const documented = new Set([...table.matchAll(/^\| `([A-Z][A-Z_]+)` \|/gm)].map((m) => m[1]));
  expect([...documented].sort()).toEqual([...read].sort());
});
