import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OwnedProcess, ownedProcess, spawnOwned } from '../../functions/local/owned-children.ts';
import { portHolder } from '../../functions/local/port-holder.ts';
import { ensureRegistryBinary } from '../../functions/local/registry-binary.ts';
import { notAnswering } from '../../functions/local/registry-process.ts';
import { workerPort } from './worker-port.ts';

/** Ports tried, each taken by another process between the check that it was free and the registry's listen. */
const PORT_ATTEMPTS = 3;

/**
 * A distribution registry anyone may pull from and push to, on 127.0.0.1: what a public registry (Docker Hub,
 * ghcr.io) is to the engine, where nothing can be reached on the internet. Resolves once it answers (as Berth's own
 * start waits for its registry); one that could not listen is started again on another port, and one that does not
 * answer is told with its last words.
 */
export async function startOpenRegistry(): Promise<{ address: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-open-registry-'));
  const log = join(dir, 'registry.log');
  let registry: OwnedProcess | undefined;
  const stop = async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 1; ; attempt++) {
    const port = await workerPort();
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${JSON.stringify(join(dir, 'data'))}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    writeFileSync(log, '');
    const child = spawnOwned(ensureRegistryBinary(), ['serve', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => writeFileSync(log, chunk, { flag: 'a' }));
    registry = ownedProcess(child);
    if (!(await notAnswering(child, port, (res) => res.ok))) return { address: `127.0.0.1:${port}`, stop };
    await registry.stop();
    const said = readFileSync(log, 'utf8').trim().split('\n').at(-1) ?? '';
    if (!said.includes('address already in use') || attempt === PORT_ATTEMPTS) {
      const holder = portHolder(port);
      await stop();
      throw new Error(
        `the distribution registry did not answer on 127.0.0.1:${port}${holder ? ` (held by ${holder})` : ''}: ${said || 'it said nothing'}`,
      );
    }
  }
}
