// The floor: the least a server can do for a create. node:http + pg, one SQL statement per request
// (look up the key hash, insert the organization and its owner membership, return the row), on the
// gateway's own schema. No validation beyond what the statement needs, no logging, no metrics.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

const CREATE = `
with caller as (
  select user_id from api_keys where hash = $1 and (expires_at is null or expires_at > now())
), org as (
  insert into organizations (id, name, created_at, updated_at, registerable, deleted, partner_configuration)
  select $2, $3, now(), now(), true, 0, '{}'::jsonb from caller
  returning *
), member as (
  insert into user_organizations (id, user_id, organization_id, role, created_at, updated_at)
  select $4, caller.user_id, org.id, 2, now(), now() from caller, org
)
select id, name, created_at, updated_at, registerable, deleted, partner_configuration from org`;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const send = (status, body) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    try {
      const header = req.headers.authorization ?? '';
      const key = header.startsWith('Bearer ') ? header.slice(7) : header;
      const { name } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const hash = createHash('sha256').update(key).digest('hex');
      const { rows } = await pool.query(CREATE, [hash, randomUUID(), name, randomUUID()]);
      if (rows.length === 0) return send(401, { message: 'Unauthorized' });
      const o = rows[0];
      send(200, { id: o.id, name: o.name, created_at: o.created_at.toISOString(), updated_at: o.updated_at.toISOString(), registerable: o.registerable, deleted: o.deleted, partner_configuration: o.partner_configuration });
    } catch (error) {
      send(error.code === '23505' ? 400 : 500, { message: error.code === '23505' ? 'taken' : 'error' });
    }
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`FLOOR http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
