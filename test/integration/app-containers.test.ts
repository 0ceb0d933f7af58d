import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { REPLICA_OOM_SCORE_ADJ } from '../../functions/adapters/docker/runtime.ts';
import { labelledContainers } from '../support/docker-cli.ts';
import { eventually } from '../support/ingress-client.ts';
import { localApiOnDocker, sampleApp, untilAppGone } from '../support/local-api.ts';
import { buildTestImage } from '../support/test-image.ts';

/** Linux capability numbers (linux/capability.h). */
const CAP = { CHOWN: 0, SETGID: 6, SETUID: 7, NET_BIND_SERVICE: 10, NET_RAW: 13 } as const;

describe('app containers on Docker Engine', () => {
  type AcmeOnDocker = Awaited<ReturnType<typeof localApiOnDocker>> & { key: string };

  /** `run` with the API of a new tenant `acme` on Docker Engine; its app `web` is deleted after, and the loop stopped. */
  async function withAcme<T>(run: (acme: AcmeOnDocker) => Promise<T>): Promise<T> {
    const api = await localApiOnDocker();
    const key = (await api.createTenant('acme')).key;
    try {
      return await run({ ...api, key });
    } finally {
      await api.call('DELETE', '/v1/apps/web', key);
      await untilAppGone(api.call, key, 'web');
      await api.runtime.loop.stop();
    }
  }

  /** What a `web` app of a new tenant prints before it serves, found in its log by `pattern`'s first group. */
  const printedBeforeServing = (print: string, pattern: RegExp, extra: Record<string, unknown> = {}) =>
    withAcme(async ({ call, key }) => {
      const serve = 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p "$PORT" -h /www';
      const command = ['sh', '-c', `${print}; ${serve}`];
      const created = await call('POST', '/v1/apps', key, sampleApp('web', { ...extra, command }));
      expect(created.status, created.text).toBe(201);
      return await eventually(`the container to print ${pattern}`, async () => {
        const logs = await call('GET', '/v1/apps/web/logs?tail=10', key);
        return pattern.exec(logs.text)?.[1];
      });
    });

  it('run with the default capabilities but NET_RAW, as on Fargate and EKS', async () => {
    const line = await printedBeforeServing('grep CapEff /proc/self/status', /CapEff:\s+([0-9a-f]+)/);
    const effective = BigInt(`0x${line}`);
    const has = (cap: number) => (effective >> BigInt(cap)) & 1n;
    expect(has(CAP.NET_RAW)).toBe(0n);
    for (const cap of [CAP.CHOWN, CAP.SETGID, CAP.SETUID, CAP.NET_BIND_SERVICE]) expect(has(cap)).toBe(1n);
  }, 120_000);

  it("run with the app's environment and the port it listens on, as its spec says", async () => {
    const env = { GREETING: 'hello, world' };
    const printed = await printedBeforeServing('echo "GREETING=$GREETING PORT=$PORT"', /(GREETING=.*)/, {
      env,
    });
    expect(printed).toBe('GREETING=hello, world PORT=8080');
  }, 120_000);

  it('are what the kernel kills first when the machine runs out of memory, before the platform’s own processes', async () => {
    const adj = await printedBeforeServing(
      'echo "oom_score_adj $(cat /proc/self/oom_score_adj)"',
      /oom_score_adj (-?\d+)/,
    );
    // Above the platform's processes, which keep the 0 they start with.
    expect(Number(adj)).toBe(REPLICA_OOM_SCORE_ADJ);
  }, 120_000);

  it('run hardened: no new privileges, at most 4096 processes, and an init as their first process', async () => {
    const pidsMax = 'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max';
    const printed = await printedBeforeServing(
      `echo "nnp=$(grep NoNewPrivs /proc/self/status | tr -dc 0-9) pids=$(${pidsMax}) init=$(cat /proc/1/comm)"`,
      /(nnp=\S* pids=\S* init=\S*)/,
    );
    // A setuid binary grants nothing, a fork bomb stops at the limit, and an init reaps the app's orphans.
    expect(printed).toBe('nnp=1 pids=4096 init=docker-init');
  }, 120_000);

  it('run within their size: the vCPU and memory of their spec, and no swap beyond it', async () => {
    // cgroup v2's files, or v1's (as Docker sets them on this machine) written the same way.
    const v1 = (controller: string, file: string) => `/sys/fs/cgroup/${controller}/${file}`;
    const cpu = `cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo $(cat ${v1('cpu', 'cpu.cfs_quota_us')}) $(cat ${v1('cpu', 'cpu.cfs_period_us')})`;
    const memory = `cat /sys/fs/cgroup/memory.max 2>/dev/null || cat ${v1('memory', 'memory.limit_in_bytes')}`;
    const swap = `cat /sys/fs/cgroup/memory.swap.max 2>/dev/null || echo $(( $(cat ${v1('memory', 'memory.memsw.limit_in_bytes')}) - $(${memory}) ))`;
    const printed = await printedBeforeServing(
      `echo "cpu=$(${cpu} | tr ' ' /) memory=$(${memory}) swap=$(${swap})"`,
      /(cpu=\S* memory=\S* swap=\S*)/,
      { cpu: 0.5, memory: 1024 },
    );
    // Half of each 100 ms period on the CPUs, 1 GiB of memory, and the memory and swap together no more than it.
    expect(printed).toBe(`cpu=50000/100000 memory=${1024 * 1024 * 1024} swap=0`);
  }, 120_000);

  it(
    "keep at most 30 MB of an app's output on the machine, whatever the engine's own default",
    () =>
      withAcme(async ({ call, key, tableName }) => {
        expect((await call('POST', '/v1/apps', key, sampleApp('web'))).status).toBe(201);
        const [id] = await eventually('a replica', async () => {
          const found = labelledContainers(tableName, { 'berth.app': 'web' });
          return found.length > 0 ? found : undefined;
        });
        const { HostConfig } = await new Docker().getContainer(id ?? '').inspect();
        // Three files of 10 MB, the oldest dropped, read by `GET /logs` as Docker's own json-file.
        expect(HostConfig.LogConfig).toEqual({
          Type: 'json-file',
          Config: { 'max-size': '10m', 'max-file': '3' },
        });
      }),
    120_000,
  );

  it(
    'are removed with the anonymous volumes their image declares, replaced or deleted',
    () =>
      withAcme(async ({ call, key, tableName }) => {
        const image = buildTestImage('berth-test/volume:1', ['VOLUME /data']);
        const docker = new Docker();
        const volumeOf = async (id: string) =>
          (await docker.getContainer(id).inspect()).Mounts.find((m) => m.Destination === '/data')?.Name ?? '';
        const exists = (volume: string) =>
          docker
            .getVolume(volume)
            .inspect()
            .then(
              () => true,
              () => false,
            );
        const ready = () =>
          eventually('a ready replica', async () =>
            (await call('GET', '/v1/apps/web', key)).json.readyReplicas === 1 ? true : undefined,
          );
        expect((await call('POST', '/v1/apps', key, sampleApp('web', { image }))).status).toBe(201);
        await ready();
        const [first] = labelledContainers(tableName, { 'berth.app': 'web' });
        const firstVolume = await volumeOf(first ?? '');
        expect(await exists(firstVolume)).toBe(true);
        expect((await call('POST', '/v1/apps/web/restart', key)).status).toBe(202);
        await eventually('the first replica to be replaced', async () => {
          const now = labelledContainers(tableName, { 'berth.app': 'web' });
          return now.length === 1 && now[0] !== first ? true : undefined;
        });
        await ready();
        const [second] = labelledContainers(tableName, { 'berth.app': 'web' });
        const secondVolume = await volumeOf(second ?? '');
        expect(secondVolume).not.toBe(firstVolume);
        expect(await exists(firstVolume)).toBe(false);
        await call('DELETE', '/v1/apps/web', key);
        await untilAppGone(call, key, 'web');
        expect(await exists(secondVolume)).toBe(false);
      }),
    120_000,
  );
});
