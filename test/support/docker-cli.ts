import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The real `docker` CLI, with its own config directory (so logins never touch the user's). */
export function dockerCli() {
  const config = mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
  const run = (args: string[], input?: string) => {
    const result = spawnSync('docker', args, {
      env: { ...process.env, DOCKER_CONFIG: config },
      input,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
  };
  return {
    run,
    /** Runs and throws with the CLI's output when it fails. */
    ok(args: string[], input?: string): string {
      const result = run(args, input);
      if (result.status !== 0) throw new Error(`docker ${args.join(' ')} failed:\n${result.output}`);
      return result.output;
    },
  };
}

/** Ids of the containers labelled for one installation (and optionally one tenant/app). */
export function labelledContainers(installation: string, filters: Record<string, string> = {}): string[] {
  const labels = Object.entries({ 'berth.installation': installation, ...filters }).flatMap(([k, v]) => [
    '--filter',
    `label=${k}=${v}`,
  ]);
  const result = spawnSync('docker', ['ps', '-aq', '--no-trunc', ...labels], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`docker ps failed: ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean);
}
