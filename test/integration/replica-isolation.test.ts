import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { APPS_NETWORK, appsNetworkId } from '../../functions/adapters/docker/replica-network.ts';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import { dockerCli } from '../support/docker-cli.ts';
import { eventually } from '../support/ingress-client.ts';
import { WEB_REPLICA } from '../support/replica-spec.ts';

const docker = dockerCli();

/** A container serving its hostname (its short id) on port 8080, as the test image does, at `host`. */
interface Serving {
  id: string;
  host: string;
}

/** What `wget` inside `from` gets from `to`: the page, or null when it has none within `seconds`. */
function fetchFrom(from: Serving, to: Serving, seconds: number): string | null {
  const url = `http://${to.host}:8080/`;
  const result = docker.run(['exec', from.id, 'timeout', String(seconds), 'wget', '-q', '-O', '-', url]);
  return result.status === 0 ? result.output.trim() : null;
}

/** The host (where the ingress runs) reaches each; inside one, wget reaches itself but none of the others. */
async function expectIsolated(containers: Serving[]) {
  for (const container of containers) {
    const page = await eventually(`${container.host} to serve`, () =>
      fetch(`http://${container.host}:8080/`).then((res) => res.text()),
    );
    expect(page.trim()).toBe(container.id.slice(0, 12));
  }
  const [first, ...others] = containers;
  if (!first) throw new Error('no containers');
  expect(fetchFrom(first, first, 10)).toBe(first.id.slice(0, 12));
  for (const other of others) {
    expect(fetchFrom(first, other, 3)).toBeNull();
    expect(fetchFrom(other, first, 3)).toBeNull();
  }
}

/** Whether the engine's default bridge keeps its containers apart. */
const bridgeIsolated = () =>
  JSON.parse(docker.ok(['network', 'inspect', '-f', '{{json .Options}}', 'bridge']))[
    'com.docker.network.bridge.enable_icc'
  ] === 'false';

const networksOf = (id: string) =>
  Object.keys(JSON.parse(docker.ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', id])));

describe('replicas on Docker Engine', () => {
  const runtime = new DockerRuntime(new Docker(), `t-${randomUUID()}`);
  const removals: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const remove of removals.splice(0)) await remove();
  });

  it("reach no other replica, another tenant's or their own app's, while the host reaches each", async () => {
    const start = async (spec: Partial<typeof WEB_REPLICA>) => {
      const replica = await runtime.startReplica({ ...WEB_REPLICA, ...spec });
      removals.push(() => runtime.removeReplica(replica.id));
      expect(replica.state).toBe('running');
      return { id: replica.id, host: replica.endpoint?.host ?? '' };
    };
    const acme = await start({});
    const acmeApi = await start({ app: 'api', appUid: 'app_0mx4gr51j0000000000000002' });
    const globex = await start({ tenantId: 'globex', appUid: 'app_0mx4gr51j0000000000000003' });
    await expectIsolated([acme, acmeApi, globex]);

    // The default bridge where the engine keeps containers apart (as on the dockerd the tests start), else Berth's.
    const expected = bridgeIsolated() ? 'bridge' : APPS_NETWORK;
    for (const replica of [acme, acmeApi, globex]) expect(networksOf(replica.id)).toEqual([expected]);
    // None is published on a port of the host's, where any process there would reach it past the ingress.
    for (const replica of [acme, acmeApi, globex]) expect(docker.ok(['port', replica.id]).trim()).toBe('');
  }, 60_000);

  it("are as isolated on Berth's apps network, for engines that let containers on the default bridge reach one another", async () => {
    const network = await appsNetworkId(new Docker());
    const start = () => {
      const id = docker.ok(['run', '-d', '--init', '--network', network, WEB_REPLICA.image]).trim();
      removals.push(async () => docker.ok(['rm', '-f', id]));
      const host = docker.ok([
        'inspect',
        '-f',
        '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
        id,
      ]);
      return { id, host: host.trim() };
    };
    const [one, two] = [start(), start()];
    expect(networksOf(one.id)).toEqual([APPS_NETWORK]);
    await expectIsolated([one, two]);
    // Made for this test alone where replicas join the default bridge; elsewhere other tests' replicas are on it.
    if (bridgeIsolated()) removals.push(async () => docker.ok(['network', 'rm', network]));
  }, 60_000);
});
