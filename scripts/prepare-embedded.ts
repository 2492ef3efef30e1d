// Part of `npm run build`: make the embedded database template (created and migrated by this build's
// own code) so the first embedded start is quick. Never fails the build: without the template the
// server initialises its database itself, only more slowly.
import { migrationsList } from '../src/db/migrations/index.js';
import { initORM } from '../src/db/orm.js';
import { makeTemplate } from '../src/db/pglite-template.js';

try {
  const started = performance.now();
  const dir = await makeTemplate(async (dataDir) => {
    const db = await initORM({ databaseUrl: undefined, dataDir }, { migrate: true });
    await db.close();
  }, migrationsList.map((migration) => migration.name));
  process.stdout.write(`embedded database template ready (${dir}, ${Math.round(performance.now() - started)} ms)\n`);
} catch (error) {
  process.stderr.write(`warning: could not prepare the embedded database template (${(error as Error).message}); the first start will be slower\n`);
}
