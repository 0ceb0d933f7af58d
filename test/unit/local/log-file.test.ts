import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logSince, openLog } from '../../../functions/local/log-file.ts';

describe("a child process's log", () => {
  let dir = '';
  let path = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-log-'));
    path = join(dir, 'dockerd.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Opens the log for a start that writes `text`, as a child would. */
  function start(text: string, rotateBytes: number) {
    const log = openLog(path, rotateBytes);
    writeSync(log.fd, text);
    closeSync(log.fd);
    return log;
  }

  it('is appended to across starts while it is small, and tells where each start begins', () => {
    const first = start('one\n', 100);
    const second = start('two\n', 100);
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
    expect([first.startsAt, second.startsAt]).toEqual([0, 4]);
    expect(logSince(path, second.startsAt)).toBe('two\n');
  });

  it('is moved aside at a start once past its size, in place of the one moved before', () => {
    writeFileSync(`${path}.1`, 'oldest\n');
    start('x'.repeat(101), 100);
    start('after the first\n', 100);
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('x'.repeat(101));
    expect(readFileSync(path, 'utf8')).toBe('after the first\n');
  });

  it('reads nothing of an earlier start, and nothing at all where this start wrote nothing', () => {
    writeFileSync(path, 'earlier\n');
    const log = openLog(path, 100);
    closeSync(log.fd);
    expect(logSince(path, log.startsAt)).toBe('');
    appendFileSync(path, 'this start\n');
    expect(logSince(path, log.startsAt)).toBe('this start\n');
  });
});
