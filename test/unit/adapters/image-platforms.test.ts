import { describe, expect, it } from 'vitest';
import { MAX_PLATFORMS, platformsOfImage } from '../../../functions/adapters/oci/image-platforms.ts';

const digest = `sha256:${'a'.repeat(64)}`;
const single = (config: Record<string, unknown>) => JSON.stringify({ schemaVersion: 2, config, layers: [] });

/** A registry's config blobs: `config` for any digest asked, and the digests asked. */
function blobs(config?: Record<string, unknown>) {
  const asked: string[] = [];
  const read = async (configDigest: string) => {
    asked.push(configDigest);
    return config && Response.json(config);
  };
  return { asked, read };
}

describe('image platforms', () => {
  it("names an index's platforms, without attestations or variants, each once, reading no config", async () => {
    const index = {
      manifests: [
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { platform: { os: 'linux', architecture: 'amd64' } },
        { platform: { os: 'unknown', architecture: 'unknown' } },
        { platform: { os: 'linux', architecture: 'amd64', variant: 'v3' } },
        {},
      ],
    };
    const { asked, read } = blobs();
    expect(await platformsOfImage(JSON.stringify(index), read)).toEqual(['linux/arm64', 'linux/amd64']);
    expect(asked).toEqual([]);
  });

  it('keeps only what could be a platform, and nothing of an index naming more than any image is built for', async () => {
    const index = (platforms: Record<string, unknown>[]) =>
      JSON.stringify({ manifests: platforms.map((platform) => ({ platform })) });
    const { read } = blobs();
    const odd = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64\n' },
      { os: 'Linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'x'.repeat(33) },
      { os: 'linux', architecture: 'a/b' },
      { os: 'linux', architecture: 'arm-' },
    ];
    expect(await platformsOfImage(index(odd), read)).toEqual(['linux/amd64']);
    const many = Array.from({ length: MAX_PLATFORMS + 1 }, (_, i) => ({
      os: 'linux',
      architecture: `arch${i}`,
    }));
    expect(await platformsOfImage(index(many.slice(1)), read)).toHaveLength(MAX_PLATFORMS);
    expect(await platformsOfImage(index(many), read)).toEqual([]);
    const config = blobs({ os: 'linux', architecture: '<script>' });
    expect(await platformsOfImage(single({ digest, size: 100 }), config.read)).toEqual([]);
  });

  it("reads a single image's platform from its config blob, by digest", async () => {
    const arm = blobs({ os: 'linux', architecture: 'arm64' });
    expect(await platformsOfImage(single({ digest, size: 1200 }), arm.read)).toEqual(['linux/arm64']);
    expect(arm.asked).toEqual([digest]);
    expect(await platformsOfImage(single({ digest, size: 1200 }), blobs({ os: 'linux' }).read)).toEqual([]);
    // A config the registry does not have says nothing.
    expect(await platformsOfImage(single({ digest, size: 1200 }), blobs().read)).toEqual([]);
  });

  it('reads no config named by something that is not a digest, or too large to be one', async () => {
    const { asked, read } = blobs({ os: 'linux', architecture: 'arm64' });
    for (const bad of ['../../other/web/manifests/1', `sha256:${'a'.repeat(64)}/../x`, 'sha256:a?b', 42]) {
      expect(await platformsOfImage(single({ digest: bad, size: 10 }), read)).toEqual([]);
    }
    expect(await platformsOfImage(single({ digest, size: 2 * 1024 * 1024 }), read)).toEqual([]);
    expect(await platformsOfImage('null', read)).toEqual([]);
    expect(await platformsOfImage('not a manifest', read)).toEqual([]);
    expect(asked).toEqual([]);
  });
});
