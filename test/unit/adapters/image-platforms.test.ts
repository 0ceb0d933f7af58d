import { describe, expect, it } from 'vitest';
import { platformsInConfig, platformsInManifest } from '../../../functions/adapters/oci/image-platforms.ts';

const digest = `sha256:${'a'.repeat(64)}`;
const single = (config: Record<string, unknown>) => ({ schemaVersion: 2, config, layers: [] });

describe('image platforms', () => {
  it("names an index's platforms, without attestations or variants, each once", () => {
    const index = {
      manifests: [
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { platform: { os: 'linux', architecture: 'amd64' } },
        { platform: { os: 'unknown', architecture: 'unknown' } },
        { platform: { os: 'linux', architecture: 'amd64', variant: 'v3' } },
        {},
      ],
    };
    expect(platformsInManifest(index)).toEqual({ platforms: ['linux/arm64', 'linux/amd64'] });
  });

  it("sends a single image's reader to its config blob, by digest", () => {
    expect(platformsInManifest(single({ digest, size: 1200 }))).toEqual({ configDigest: digest });
    expect(platformsInConfig({ os: 'linux', architecture: 'arm64' })).toEqual(['linux/arm64']);
    expect(platformsInConfig({ os: 'linux' })).toEqual([]);
  });

  it('reads no config named by something that is not a digest, or too large to be one', () => {
    for (const bad of ['../../other/web/manifests/1', `sha256:${'a'.repeat(64)}/../x`, 'sha256:a?b', 42]) {
      expect(platformsInManifest(single({ digest: bad, size: 10 }))).toEqual({ platforms: [] });
    }
    expect(platformsInManifest(single({ digest, size: 2 * 1024 * 1024 }))).toEqual({ platforms: [] });
    expect(platformsInManifest(null)).toEqual({ platforms: [] });
  });
});
