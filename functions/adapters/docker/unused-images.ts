import type Docker from 'dockerode';
import { statusOf } from './docker-errors.ts';
import type { Answered } from './engine-answer.ts';

/**
 * The images replicas were started from, once no container uses them. Each deploy, restart and rollback pulls an
 * image by digest, and the engine kept every one for good: a collection removes the digest references it is given
 * (`collectable`) of the images no container was created from, as the kubelet's image GC does under disk pressure.
 * One that an app goes back to is pulled again. A start holds its image from making sure of it to creating its
 * container, so that no collection removes it in between, and waits for a collection under way before it begins.
 */
export class UnusedImages {
  /** Image references starts hold, with how many hold each. */
  private readonly held = new Map<string, number>();
  private collecting: Promise<number> | undefined;

  constructor(
    private readonly docker: Docker,
    private readonly answered: Answered,
  ) {}

  /** Runs `start`, which makes sure of `image` and creates a container from it, with `image` held. */
  async holding<T>(image: string, start: () => Promise<T>): Promise<T> {
    await this.collecting;
    this.held.set(image, (this.held.get(image) ?? 0) + 1);
    try {
      return await start();
    } finally {
      const holders = (this.held.get(image) ?? 1) - 1;
      if (holders === 0) this.held.delete(image);
      else this.held.set(image, holders);
    }
  }

  /** Removes the collectable references of images no container uses; one collection at a time. How many it removed. */
  collect(collectable: (reference: string) => boolean): Promise<number> {
    this.collecting ??= this.removeUnused(collectable).finally(() => {
      this.collecting = undefined;
    });
    return this.collecting;
  }

  private async removeUnused(collectable: (reference: string) => boolean): Promise<number> {
    const [images, containers] = await Promise.all([
      this.answered((abortSignal) => this.docker.listImages({ abortSignal })),
      this.answered((abortSignal) => this.docker.listContainers({ all: true, abortSignal })),
    ]);
    const used = new Set(containers.map((c) => c.ImageID));
    let removed = 0;
    for (const image of images) {
      if (used.has(image.Id)) continue;
      for (const reference of image.RepoDigests ?? []) {
        if (!collectable(reference) || this.held.has(reference)) continue;
        try {
          await this.answered((abortSignal) => this.docker.getImage(reference).remove({ abortSignal }));
          removed += 1;
        } catch (err) {
          // 404: gone meanwhile; 409: a container made since (by hand) uses it.
          if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
        }
      }
    }
    return removed;
  }
}
