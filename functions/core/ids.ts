import { createHash, randomBytes } from 'node:crypto';

/**
 * A unique id that sorts by creation time, e.g. `dep_0mhx2k1c4a1b2c3d4e5f6a7b8`. Given `of` (what the id names, e.g.
 * a task's stop), the same `of` and time always give the same id, so recording it again writes the same record.
 *
 * @example
 * newId('dep', new Date('2026-11-22T00:00:00Z'))
 */
export function newId(prefix: string, at: Date, of?: string): string {
  const unique = of === undefined ? randomBytes(8) : createHash('sha256').update(of).digest().subarray(0, 8);
  return `${prefix}_${at.getTime().toString(36).padStart(9, '0')}${unique.toString('hex')}`;
}
