import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The pinned CLI as an installer runs it, without credentials or instance metadata: synthesis must need neither. Nor
 * does it fetch CDK's notices, so that the test asks nothing of the network.
 */
const cdk = (args: string[]) =>
  spawnSync('node_modules/.bin/cdk', [...args, '--no-notices'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    encoding: 'utf8',
    timeout: 180_000,
  });

describe('cdk synth', () => {
  it('synthesizes the app in cdk.json with the pinned CLI, offline and without credentials, reporting nothing to AWS', () => {
    const out = mkdtempSync(join(tmpdir(), 'berth-cdk-out-'));
    try {
      const result = cdk(['synth', '--quiet', '--output', out]);
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
      const template = (stack: string) =>
        JSON.parse(readFileSync(join(out, `${stack}.template.json`), 'utf8'));
      const [data, platform] = [template('BerthData'), template('BerthPlatform')];
      expect(Object.keys(platform.Resources).length).toBeGreaterThan(50);
      // The CLI adds CDK's analytics to each stack unless the app turns it off.
      const types = (t: { Resources: Record<string, { Type: string }> }) =>
        Object.values(t.Resources).map((r) => r.Type);
      expect([...types(data), ...types(platform)]).not.toContain('AWS::CDK::Metadata');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 240_000);

  it('stops on a context that is not valid, naming each field that is wrong, without a stack trace', () => {
    const result = cdk(['synth', '--quiet', '--context', 'berth={"domain":"Apps.Example.com"}']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('invalid CDK context "berth":\n');
    expect(result.stderr).toMatch(/^ {2}berth\.domain: must be a DNS name in lowercase/m);
    expect(result.stderr).toMatch(/^ {2}berth\.region: is required$/m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});
