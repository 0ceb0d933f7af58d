import { describe, expect, it } from 'vitest';
import { RoutingTable } from '../../../functions/local/routing-table.ts';

const endpoint = { host: '127.0.0.1', port: 9000 };

describe('the routing table after a start (rebuilding)', () => {
  it('does not wait for a route unless it is being rebuilt', async () => {
    const routes = new RoutingTable();
    expect(await routes.readySoon('acme', 'web')).toBe(false);
    await routes.route('acme', 'web', [endpoint]);
    expect(await routes.readySoon('acme', 'web')).toBe(true);
  });

  it("while rebuilt, waits for the app's first ready endpoint, not woken by a route with none", async () => {
    const routes = new RoutingTable();
    routes.rebuilding(60_000);
    let answered: boolean | undefined;
    const waited = routes.readySoon('acme', 'web').then((ready) => {
      answered = ready;
    });
    await routes.route('acme', 'web', []);
    await routes.route('acme', 'other', [endpoint]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBeUndefined();
    await routes.route('acme', 'web', [endpoint]);
    await waited;
    expect(answered).toBe(true);
    expect(routes.pick('acme', 'web')).toEqual(endpoint);
  });

  it('stops waiting when the rebuilding ends without a route, and waits no more after it', async () => {
    const routes = new RoutingTable();
    routes.rebuilding(30);
    const [first, second] = await Promise.all([
      routes.readySoon('acme', 'web'),
      routes.readySoon('acme', 'web'),
    ]);
    expect([first, second]).toEqual([false, false]);
    // Ended: answered at once.
    expect(await routes.readySoon('acme', 'web')).toBe(false);
    await routes.route('acme', 'web', [endpoint]);
    expect(await routes.readySoon('acme', 'web')).toBe(true);
  });
});

describe('the routing table', () => {
  it("hands an app's endpoints out in turn, and forgets them once the app's route is removed, another app's kept", async () => {
    const other = { host: '127.0.0.1', port: 9001 };
    const routes = new RoutingTable();
    await routes.route('acme', 'web', [endpoint, other]);
    await routes.route('acme', 'api', [other]);
    expect([routes.pick('acme', 'web'), routes.pick('acme', 'web'), routes.pick('acme', 'web')]).toEqual([
      endpoint,
      other,
      endpoint,
    ]);
    // A deleted app's replicas are gone, and their addresses may go to another tenant's: nothing is sent there.
    await routes.remove('acme', 'web');
    expect([routes.size('acme', 'web'), routes.pick('acme', 'web')]).toEqual([0, undefined]);
    expect(routes.pick('acme', 'api')).toEqual(other);
  });
});
