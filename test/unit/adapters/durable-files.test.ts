import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileDurably } from '../../../functions/adapters/files/durable-files.ts';

describe('files written to last a power cut', () => {
  it('are written whole, for their owner alone, over what the name held, with nothing left beside them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-durable-'));
    const file = join(dir, 'secret');
    writeFileDurably(file, 'first');
    writeFileDurably(file, 'second, longer');
    expect(readFileSync(file, 'utf8')).toBe('second, longer');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['secret']);
  });

  it('leave nothing beside the name when the write fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-durable-'));
    // A directory holding a file has the name: the content is written beside it, then cannot take its place.
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'taken', 'inside'), 'x');
    expect(() => writeFileDurably(join(dir, 'taken'), 'lost')).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readdirSync(join(dir, 'taken'))).toEqual(['inside']);
  });
});
