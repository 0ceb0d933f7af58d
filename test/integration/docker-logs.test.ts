import { randomUUID } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import Docker from 'dockerode';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { DockerRuntime, LABELS } from '../../functions/adapters/docker/runtime.ts';
import type { Replica } from '../../functions/core/ports.ts';
import { wrapContainers } from '../support/wrap-containers.ts';

/** A Docker client whose followed logs count the bytes read from the engine. */
function countingDocker() {
  const pulled = { bytes: 0 };
  const docker = wrapContainers(new Docker(), (container) => {
    const logs = container.logs.bind(container) as (options: { follow: boolean }) => Promise<unknown>;
    container.logs = (async (options: { follow: boolean }) => {
      const log = await logs(options);
      if (!options.follow) return log;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          pulled.bytes += chunk.length;
          done(null, chunk);
        },
      });
      counted.on('close', () => (log as Readable).destroy());
      return (log as Readable).pipe(counted);
    }) as typeof container.logs;
  });
  return { docker, pulled };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('following a replica’s log on Docker Engine', () => {
  const containers: Docker.Container[] = [];
  afterEach(async () => {
    // A test that removed its container through the runtime left nothing to remove.
    for (const container of containers.splice(0)) await container.remove({ force: true }).catch(() => {});
  });

  /** A running container of the test image, as a replica the runtime can read the log of. */
  async function running(docker: Docker, script: string): Promise<Replica> {
    const appUid = `app-${randomUUID()}`;
    const container = await docker.createContainer({
      Image: inject('testImage'),
      Cmd: ['sh', '-c', script],
      Labels: { [LABELS.appUid]: appUid },
    });
    containers.push(container);
    await container.start();
    return { id: container.id, appUid } as Replica;
  }

  async function linesOf(log: AsyncIterable<string>, count = Number.POSITIVE_INFINITY): Promise<string[]> {
    const lines: string[] = [];
    for await (const line of log) if (lines.push(line) >= count) break;
    return lines;
  }

  it('reads only as fast as its reader: a reader that stops holds the log back instead of buffering it', async () => {
    const { docker, pulled } = countingDocker();
    const runtime = new DockerRuntime(docker, `t-${randomUUID()}`);
    const replica = await running(docker, 'yes "a line of a log that never stops 0123456789"');
    const stop = new AbortController();
    const lines = runtime.replicaLogs(replica, { follow: true, signal: stop.signal })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toMatch(/^\S+Z a line of a log that never stops 0123456789$/);
    // The container writes on for two seconds, megabytes a second, while nobody reads.
    await sleep(2000);
    expect(pulled.bytes).toBeLessThan(1024 * 1024);
    expect((await lines.next()).value).toMatch(/a line of a log that never stops/);
    // Stopped, it ends after what it had read already: a chunk's lines, not the log written meanwhile.
    stop.abort();
    let after = 0;
    while (!(await lines.next()).done) after++;
    expect(after).toBeLessThan(1000);
  });

  it('ends when its signal aborts, while no line is coming', async () => {
    const { docker } = countingDocker();
    const runtime = new DockerRuntime(docker, `t-${randomUUID()}`);
    const replica = await running(docker, 'echo started; sleep 600');
    const stop = new AbortController();
    const lines = runtime.replicaLogs(replica, { follow: true, signal: stop.signal })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toMatch(/^\S+Z started$/);
    const next = lines.next();
    stop.abort();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it('gives the last `tail` lines of a running replica, and those since a time, as the engine reads them', async () => {
    const docker = new Docker();
    const runtime = new DockerRuntime(docker, `t-${randomUUID()}`);
    const replica = await running(docker, 'echo one; echo two; echo three; sleep 2; echo four; sleep 600');
    const text = (lines: string[]) => lines.map((line) => line.replace(/^\S+Z /, ''));
    await expect
      .poll(async () => text(await linesOf(runtime.replicaLogs(replica, {}))), { timeout: 10_000 })
      .toEqual(['one', 'two', 'three', 'four']);
    expect(text(await linesOf(runtime.replicaLogs(replica, { tail: 2 })))).toEqual(['three', 'four']);
    expect(await linesOf(runtime.replicaLogs(replica, { tail: 0 }))).toEqual([]);
    // The engine reads from the second: `four` came two seconds after the others.
    const [four] = await linesOf(runtime.replicaLogs(replica, { tail: 1 }));
    const since = new Date(four?.split(' ')[0] ?? '');
    expect(text(await linesOf(runtime.replicaLogs(replica, { since })))).toEqual(['four']);
  });

  it('gives a line longer than the 16 KiB the engine keeps it in whole, with its time once', async () => {
    const docker = new Docker();
    const runtime = new DockerRuntime(docker, `t-${randomUUID()}`);
    // 40,000 characters on stdout, which the engine keeps as three messages, with a line on stderr written while
    // the first part is in its log and the last is not.
    const half = (c: string) => `head -c 20000 /dev/zero | tr "\\0" ${c}`;
    const script = `${half('a')}; sleep 1; echo oops >&2; sleep 1; ${half('b')}; echo; echo end; sleep 600`;
    const replica = await running(docker, script);
    const long = /^\S+Z a{20000}b{20000}$/;
    // Each line as it ended: the one on stderr first, written while the long one was still coming.
    const expected = [
      expect.stringMatching(/^\S+Z oops$/),
      expect.stringMatching(long),
      expect.stringMatching(/^\S+Z end$/),
    ];
    await expect.poll(() => linesOf(runtime.replicaLogs(replica, {})), { timeout: 10_000 }).toEqual(expected);
    const stop = new AbortController();
    expect(await linesOf(runtime.replicaLogs(replica, { follow: true, signal: stop.signal }), 3)).toEqual(
      expected,
    );
    stop.abort();
    // Removed once it has exited, its last lines are kept as they were read.
    await docker.getContainer(replica.id).kill();
    await docker.getContainer(replica.id).wait();
    await runtime.removeReplica(replica.id);
    expect(await linesOf(runtime.replicaLogs(replica, {}))).toEqual(expected);
  });
});
