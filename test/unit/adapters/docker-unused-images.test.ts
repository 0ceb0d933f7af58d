import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { answered } from '../../../functions/adapters/docker/engine-answer.ts';
import { UnusedImages } from '../../../functions/adapters/docker/unused-images.ts';

const PLATFORM = '127.0.0.1:5000/';
const ref = (name: string) => `${PLATFORM}acme/${name}@sha256:${name.padEnd(64, '0')}`;

/**
 * An engine holding `images` (id → digest references) and containers made from `used` (image ids); `remove` answers
 * each removal (it resolves by default). What was removed, in order.
 */
function engine(
  images: Record<string, string[]>,
  used: string[],
  remove: (reference: string) => Promise<void> = async () => {},
) {
  const removed: string[] = [];
  const docker = {
    listImages: async () => Object.entries(images).map(([Id, RepoDigests]) => ({ Id, RepoDigests })),
    listContainers: async () => used.map((ImageID) => ({ ImageID })),
    getImage: (reference: string) => ({
      remove: async () => {
        await remove(reference);
        removed.push(reference);
        for (const [id, references] of Object.entries(images))
          images[id] = references.filter((r) => r !== reference);
      },
    }),
  } as unknown as Docker;
  return { docker, removed };
}

const platformOnly = (reference: string) => reference.startsWith(PLATFORM);

describe('unused images in the Docker Engine', () => {
  it("removes the collectable references of images no container uses, and no other's", async () => {
    const { docker, removed } = engine(
      {
        old: [ref('old')],
        running: [ref('running')],
        // The operator's, pulled by digest from elsewhere.
        theirs: ['registry.example.com/tools/cli@sha256:1234'],
        // Gone meanwhile (404), and used by a container made meanwhile by hand (409).
        gone: [ref('gone')],
        taken: [ref('taken')],
      },
      ['running'],
      async (reference) => {
        const status = { [ref('gone')]: 404, [ref('taken')]: 409 }[reference];
        if (status) throw Object.assign(new Error('engine says no'), { statusCode: status });
      },
    );
    expect(await new UnusedImages(docker, answered).collect(platformOnly)).toBe(1);
    expect(removed).toEqual([ref('old')]);
  });

  it('fails a collection on any other refusal of the engine', async () => {
    const { docker, removed } = engine({ old: [ref('old')] }, [], async () => {
      throw Object.assign(new Error('driver failed to remove the image'), { statusCode: 500 });
    });
    await expect(new UnusedImages(docker, answered).collect(platformOnly)).rejects.toThrow(
      'driver failed to remove the image',
    );
    expect(removed).toEqual([]);
  });

  it('keeps an image a start holds, and has a start wait for a collection under way', async () => {
    let letRemovalEnd = () => {};
    const removalStarted = Promise.withResolvers<void>();
    const { docker, removed } = engine({ held: [ref('held')], old: [ref('old')] }, [], (reference) => {
      if (reference !== ref('old')) return Promise.resolve();
      removalStarted.resolve();
      return new Promise((resolve) => {
        letRemovalEnd = resolve;
      });
    });
    const images = new UnusedImages(docker, answered);
    const start = Promise.withResolvers<void>();
    const holding = images.holding(ref('held'), () => start.promise);
    const collection = images.collect(platformOnly);
    await removalStarted.promise;
    // A start that begins while the collection runs begins after it.
    const steps: string[] = [];
    const later = images.holding(ref('old'), async () => {
      steps.push('second start');
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    steps.push('collection ends');
    letRemovalEnd();
    expect(await collection).toBe(1);
    await later;
    start.resolve();
    await holding;
    expect(removed).toEqual([ref('old')]);
    expect(steps).toEqual(['collection ends', 'second start']);
    // Once no start holds it, the next collection removes it.
    expect(await images.collect(platformOnly)).toBe(1);
    expect(removed).toEqual([ref('old'), ref('held')]);
  });
});
