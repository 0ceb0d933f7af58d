import { LOWEST_PORT, listensOn } from '../../functions/local/free-port.ts';
import { FETCH_BAD_PORTS } from '../../functions/shared/fetch-bad-ports.ts';

/** Ports each vitest worker takes its own from: 25 blocks below the range freePort draws from. */
const BLOCK = 400;
const BLOCKS = 25;

/** Where in its block this process takes its next port: from a random place, then in turn. */
let next = Math.floor(Math.random() * BLOCK);

/**
 * A port on 127.0.0.1 free a moment ago, from this vitest worker's own block below LOWEST_PORT, none that fetch refuses
 * to connect to, and none this process was given before it (they are handed out in turn). A test that stops a server
 * and starts it again on the same port (a platform killed and restarted) cannot lose the port meanwhile: test files
 * run one after another in a worker, and nothing else takes ports from its block — the platforms the tests start draw
 * DynamoDB Local's with freePort, above.
 */
export async function workerPort(): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID ?? 1);
  const from = LOWEST_PORT - BLOCKS * BLOCK + ((worker - 1) % BLOCKS) * BLOCK;
  for (let tried = 0; tried < BLOCK; tried++) {
    const candidate = from + (next++ % BLOCK);
    // 10080 is among them: a registry given it never answered the platform's fetch, so its start failed after 20 s.
    if (FETCH_BAD_PORTS.has(candidate)) continue;
    const port = await listensOn(candidate);
    if (port) return port;
  }
  throw new Error(`no free port in ${from}–${from + BLOCK - 1}, vitest worker ${worker}'s block`);
}
