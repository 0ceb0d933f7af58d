import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('cdk synth', () => {
  it('synthesizes the app in cdk.json with the pinned CLI, offline and without credentials', () => {
    const out = mkdtempSync(join(tmpdir(), 'berth-cdk-out-'));
    try {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        // No credentials and no instance metadata: synthesis must not need either.
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      const result = spawnSync('node_modules/.bin/cdk', ['synth', '--quiet', '--output', out], {
        env,
        encoding: 'utf8',
        timeout: 180_000,
      });
      expect(result.status, result.stderr).toBe(0);
      // Every flag the CLI knows of is set (infra/feature-flags.ts): it says so when one is not.
      expect(result.stderr).not.toMatch(/feature flags? (is|are) not configured/);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
        artifacts: Record<string, { type: string }>;
      };
      const stacks = Object.entries(manifest.artifacts)
        .filter(([, a]) => a.type === 'aws:cloudformation:stack')
        .map(([name]) => name);
      expect(stacks.sort()).toEqual(['BerthData', 'BerthPlatform']);
      const platform = JSON.parse(readFileSync(join(out, 'BerthPlatform.template.json'), 'utf8'));
      expect(Object.keys(platform.Resources).length).toBeGreaterThan(50);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 240_000);
});
