import { LOWEST_PORT, listensOn } from '../../functions/local/free-port.ts';

/** Ports each vitest worker takes its own from: 25 blocks below the range freePort draws from. */
const BLOCK = 400;
const BLOCKS = 25;

/** Where in its block this process takes its next port: from a random place, then in turn. */
let next = Math.floor(Math.random() * BLOCK);

/**
 * A port on 127.0.0.1 free a moment ago, from this vitest worker's own block below LOWEST_PORT, and none this process
 * was given before it (they are handed out in turn). A test that stops a server and starts it again on the same port
 * (a platform killed and restarted) cannot lose the port meanwhile: test files run one after another in a worker, and
 * nothing else takes ports from its block — the platforms the tests start draw DynamoDB Local's with freePort, above.
 */
export async function workerPort(): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID ?? 1);
  const from = LOWEST_PORT - BLOCKS * BLOCK + ((worker - 1) % BLOCKS) * BLOCK;
  for (let tried = 0; tried < BLOCK; tried++) {
    const port = await listensOn(from + (next++ % BLOCK));
    if (port) return port;
  }
  throw new Error(`no free port in ${from}–${from + BLOCK - 1}, vitest worker ${worker}'s block`);
}
