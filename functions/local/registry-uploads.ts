import { type Dirent, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The registry's repositories under its storage root, as its filesystem driver lays them out. */
const REPOSITORIES = 'docker/registry/v2/repositories';

function directoriesIn(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Removes every upload the registry at storage `root` holds unfinished; to be run while it is stopped, when none is
 * in progress. Each is what a push that failed or was interrupted wrote of a layer, and docker begins a layer's
 * upload anew on each of its retries: a push that failed on a full disk leaves five, which keep it full, and the
 * registry itself removes them only once they are older than its upload purging's age (see registryConfig).
 */
export function removeUnfinishedUploads(root: string): void {
  const visit = (dir: string) => {
    for (const entry of directoriesIn(dir)) {
      const path = join(dir, entry.name);
      if (entry.name === '_uploads') {
        for (const upload of directoriesIn(path))
          rmSync(join(path, upload.name), { recursive: true, force: true });
      } else if (!entry.name.startsWith('_')) {
        // A repository's name never has a part that starts with `_`: those are the registry's (_layers, _manifests).
        visit(path);
      }
    }
  };
  visit(join(root, REPOSITORIES));
}
