import { randomBytes } from 'node:crypto';

/**
 * A unique id that sorts by creation time, e.g. `dep_0mhx2k1c4a1b2c3d4e5f6a7b8`.
 *
 * @example
 * newId('dep', new Date('2026-11-22T00:00:00Z'))
 */
export function newId(prefix: string, at: Date): string {
  return `${prefix}_${at.getTime().toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}
