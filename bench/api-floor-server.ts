import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { key } from '../functions/adapters/dynamodb/items.ts';
import { SingleTable } from '../functions/adapters/dynamodb/single-table.ts';
import { localDynamoDbClient, SHARED_ACCESS_KEY } from '../functions/local/dynamodb-local.ts';

/*
 * The floor of `npm run bench -- api`, started by bench/api.ts in a process of its own: `GET /v1/apps/{app}` as the
 * least any server on Berth's stack does — Hono on @hono/node-server, one GetItem of the app through the same
 * DynamoDB client, the item's body as JSON — without authentication, validation or Berth's own code.
 */
const { FLOOR_DYNAMODB_ENDPOINT, FLOOR_TABLE_NAME, FLOOR_TENANT, FLOOR_PORT } = process.env;
if (!FLOOR_DYNAMODB_ENDPOINT || !FLOOR_TABLE_NAME || !FLOOR_TENANT || !FLOOR_PORT)
  throw new Error('set FLOOR_DYNAMODB_ENDPOINT, FLOOR_TABLE_NAME, FLOOR_TENANT and FLOOR_PORT');
// The bench's DynamoDB Local is in memory: one database, whatever the key.
const table = new SingleTable(
  localDynamoDbClient({ endpoint: FLOOR_DYNAMODB_ENDPOINT, accessKeyId: SHARED_ACCESS_KEY }),
  FLOOR_TABLE_NAME,
);
const app = new Hono().get('/v1/apps/:app', async (c) => {
  const item = await table.get(key.app(FLOOR_TENANT, c.req.param('app')));
  return item ? c.json(item.body) : c.json({ code: 'app.notFound' }, 404);
});
serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(FLOOR_PORT) }, () =>
  console.log('[floor] ready'),
);
