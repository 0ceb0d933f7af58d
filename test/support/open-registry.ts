import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRegistryBinary } from '../../functions/local/docker-engine.ts';
import { ownedProcess, spawnOwned } from '../../functions/local/owned-children.ts';
import { workerPort } from './worker-port.ts';

/**
 * A distribution registry anyone may pull from and push to, on 127.0.0.1: what a public registry (Docker Hub,
 * ghcr.io) is to the engine, where nothing can be reached on the internet. Resolves once it answers.
 */
export async function startOpenRegistry(): Promise<{ address: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-open-registry-'));
  const port = await workerPort();
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${JSON.stringify(dir)}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const registry = ownedProcess(spawnOwned(ensureRegistryBinary(), ['serve', config], { stdio: 'ignore' }));
  const stop = async () => {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const answered = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (res) => res.ok,
      () => false,
    );
    if (answered) return { address: `127.0.0.1:${port}`, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`the distribution registry did not answer on 127.0.0.1:${port}`);
}
