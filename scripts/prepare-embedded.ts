// Part of `npm run build`: make the PGlite template so the first embedded start is quick. Never fails
// the build: without the template the server initialises its database itself, only more slowly.
import { makeTemplate } from '../src/db/pglite-template.js';

try {
  const started = performance.now();
  const file = await makeTemplate();
  process.stdout.write(`embedded database template ready (${file}, ${Math.round(performance.now() - started)} ms)\n`);
} catch (error) {
  process.stderr.write(`warning: could not prepare the embedded database template (${(error as Error).message}); the first start will be slower\n`);
}
