// The embedded data directory's lock under a race: several processes find the same stale lock (its
// holder was killed) at the same moment. 0.2.0 let two of them judge it stale, the second removing the
// first's new lock, and both opened PGlite. Exactly one may win each time.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI } from './processes.js';

const root = mkdtempSync(path.join(tmpdir(), 'gateway-lock-race-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('of six processes that find one stale lock at once, exactly one takes it, round after round', async () => {
  const contenders = 6;
  const rounds = 25;
  for (let round = 0; round < rounds; round++) {
    mkdirSync(path.join(root, String(round)));
    writeFileSync(path.join(root, String(round), 'gateway.lock'), '999999999\n'); // no such process
  }
  const outputs: string[] = [];
  const children = Array.from({ length: contenders }, (_, i) => {
    const child = spawn(CLI[0], [CLI[1], CLI[2], path.resolve('test/fixtures/lock-contender.ts'), root, String(rounds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    outputs[i] = '';
    child.stdout!.on('data', (chunk) => (outputs[i] += chunk));
    return child;
  });
  try {
    await expect.poll(() => outputs.every((o) => o.startsWith('ready\n')), { timeout: 30_000 }).toBe(true);
    for (let round = 0; round < rounds; round++) {
      writeFileSync(path.join(root, String(round), 'go'), '');
      const line = new RegExp(`^${round} (ok|in-use)$`, 'm');
      await expect.poll(() => outputs.every((o) => line.test(o)), { timeout: 10_000 }).toBe(true);
      const winners = outputs.filter((o) => new RegExp(`^${round} ok$`, 'm').test(o)).length;
      expect(winners, `round ${round}`).toBe(1);
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
});
