import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { APPS_NETWORK } from '../../functions/adapters/docker/apps-network.ts';
import { DockerRuntime } from '../../functions/adapters/docker/runtime.ts';
import type { Replica } from '../../functions/core/ports.ts';
import { dockerCli } from '../support/docker-cli.ts';
import { WEB_REPLICA } from '../support/replica-spec.ts';

const docker = dockerCli();

/** What `wget` inside `replica` gets from `target`'s endpoint: the page, or null when it cannot connect in 2 s. */
function fetchFrom(replica: Replica, target: Replica): string | null {
  const url = `http://${target.endpoint?.host}:${target.endpoint?.port}/`;
  const result = docker.run(['exec', replica.id, 'timeout', '2', 'wget', '-q', '-O', '-', url]);
  return result.status === 0 ? result.output.trim() : null;
}

const hostnameOf = (replica: Replica) => replica.id.slice(0, 12);

describe('replicas on Docker Engine', () => {
  const runtime = new DockerRuntime(new Docker(), `t-${randomUUID()}`);
  const started: Replica[] = [];
  afterEach(async () => {
    for (const replica of started.splice(0)) await runtime.removeReplica(replica.id);
  });

  it("reach no other replica, another tenant's or their own app's, while the host reaches each", async () => {
    const start = async (spec: Partial<typeof WEB_REPLICA>) => {
      const replica = await runtime.startReplica({ ...WEB_REPLICA, ...spec });
      started.push(replica);
      expect(replica.state).toBe('running');
      return replica;
    };
    const acme = await start({});
    const acmeApi = await start({ app: 'api', appUid: 'app_0mx4gr51j0000000000000002' });
    const globex = await start({ tenantId: 'globex', appUid: 'app_0mx4gr51j0000000000000003' });

    // Each serves its hostname (its container id) on its endpoint; the host, where the ingress runs, reaches it.
    for (const replica of [acme, acmeApi, globex]) {
      const page = await fetch(`http://${replica.endpoint?.host}:${replica.endpoint?.port}/`);
      expect((await page.text()).trim()).toBe(hostnameOf(replica));
    }
    // wget inside a replica works: it reaches its own endpoint.
    expect(fetchFrom(acme, acme)).toBe(hostnameOf(acme));
    // But not another replica's, whatever its tenant or app.
    expect(fetchFrom(acme, globex)).toBeNull();
    expect(fetchFrom(globex, acme)).toBeNull();
    expect(fetchFrom(acme, acmeApi)).toBeNull();

    const networks = docker.ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', acme.id, globex.id]);
    for (const line of networks.trim().split('\n'))
      expect(Object.keys(JSON.parse(line))).toEqual([APPS_NETWORK]);
  }, 60_000);
});
