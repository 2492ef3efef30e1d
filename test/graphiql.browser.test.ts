// GraphiQL in a real browser (Debian's headless Chromium driven by playwright-core): open /graphql,
// enter an API key in the Headers pane, run the example mutation, see the organization.
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
// CI installs Chromium and must run this; a developer machine without it is told so, loudly.
if (!available && !process.env.CI) {
  console.warn(`SKIPPED graphiql.browser.test.ts: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
}

let env: TestEnv;
let server: http.Server;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  if (!available && !process.env.CI) return;
  env = await createTestEnv();
  server = http.createServer(env.app.handleNodeRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await env?.close();
});

it.skipIf(!available && !process.env.CI)('creates an organization from GraphiQL, offline, with the key in the Headers pane', async () => {
  const { key } = await env.newUser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const offSite: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(baseUrl) && !request.url().startsWith('data:') && !request.url().startsWith('blob:')) offSite.push(request.url());
  });

  await page.goto(`${baseUrl}/graphql`);
  await page.waitForSelector('.graphiql-container .monaco-editor', { timeout: 30_000 });

  await page.getByText('Headers', { exact: true }).click();
  await page.locator('.graphiql-editor-tool .monaco-editor:visible').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(`{"Authorization": "Bearer ${key}"}`);

  // Put the cursor in the CreateOrganization operation and run the operation under the cursor.
  await page.locator('.graphiql-query-editor .monaco-editor').first().click({ position: { x: 200, y: 100 } });
  await page.keyboard.press('Control+Enter');

  // Monaco renders spaces as no-break spaces; compare normalized text.
  const resultText = async () => ((await page.locator('.graphiql-response').textContent()) ?? '').replace(/\s+/g, ' ');
  await expect.poll(resultText, { timeout: 20_000 }).toContain('"__typename": "Organization"');
  expect(await resultText()).toContain('"name": "My organization"');

  mkdirSync('test-artifacts', { recursive: true });
  await page.screenshot({ path: 'test-artifacts/graphiql.png' });

  const rows = await env.sql<{ name: string }>(`select name from organizations where name = 'My organization'`);
  expect(rows).toEqual([{ name: 'My organization' }]);
  expect(offSite).toEqual([]);
});
