import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../adapters/files/durable-files.ts';

/**
 * Notes where the platform registry listens now (`host`, `127.0.0.1:<BERTH_REGISTRY_PORT>`) among where it ever
 * listened for this data directory (`<dir>/addresses`, a line each), and returns the others: revisions pin their
 * images by the registry's address at the time, so a registry moved to another port (its port taken by another
 * program) still serves them, pulled from where it listens now.
 */
export function rememberRegistryAddress(dir: string, host: string): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'addresses');
  const known = readLines(file);
  if (!known.includes(host)) {
    // A write cut short leaves the list as it was.
    writeFileDurably(file, [...known, host].map((line) => `${line}\n`).join(''));
  }
  return known.filter((line) => line !== host);
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
