import { describe, expect, it } from 'vitest';
import { type LineSource, lineTime, mergeByTime } from '../../../functions/core/log-merge.ts';

async function* linesOf(lines: string[], fail?: Error) {
  yield* lines;
  if (fail) throw fail;
}

const source = (prefix: string, lines: string[], fail?: Error): LineSource => ({
  prefix,
  lines: linesOf(lines, fail),
});

async function read(lines: AsyncIterable<string>): Promise<string[]> {
  const read: string[] = [];
  for await (const line of lines) read.push(line.trimEnd());
  return read;
}

describe('the time a log line begins with', () => {
  it('reads it to the nanosecond, whatever the fraction’s length or the zone', () => {
    // Docker and the kubelet trim trailing zeros: .4983 is earlier than .49831 though its text sorts after it.
    expect(lineTime('2026-12-04T08:37:53.4983Z hello')).toEqual({
      ms: Date.UTC(2026, 11, 4, 8, 37, 53, 498),
      ns: 300_000,
    });
    expect(lineTime('2026-12-04T08:37:53.49831Z hello')).toEqual({
      ms: Date.UTC(2026, 11, 4, 8, 37, 53, 498),
      ns: 310_000,
    });
    expect(lineTime('2026-12-04T08:37:53.498313875Z hello')?.ns).toBe(313_875);
    // Berth's CloudWatch reader writes milliseconds; a time without a fraction is on its second.
    expect(lineTime('2026-12-04T08:37:53.498Z hello')).toEqual({
      ms: Date.UTC(2026, 11, 4, 8, 37, 53, 498),
      ns: 0,
    });
    expect(lineTime('2026-12-04T08:37:53Z hello')).toEqual({ ms: Date.UTC(2026, 11, 4, 8, 37, 53), ns: 0 });
    expect(lineTime('2026-12-04T09:37:53.5+01:00 hello')).toEqual(lineTime('2026-12-04T08:37:53.5Z hello'));
    // An empty line is still its time.
    expect(lineTime('2026-12-04T08:37:53.5Z')).toEqual(lineTime('2026-12-04T08:37:53.5Z x'));
  });

  it('is undefined for a line that does not begin with one', () => {
    for (const line of [
      'hello',
      '',
      ' 2026-12-04T08:37:53Z hello',
      '2026-12-04T08:37:53.5Zhello',
      '2026-12-04 08:37:53Z hello',
      '2026-13-45T08:37:53Z hello',
      '2026-12-04T08:37:53.5 hello',
    ]) {
      expect(lineTime(line), line).toBeUndefined();
    }
  });
});

describe('merging replicas’ logs by time', () => {
  it('reads every line once, in the order written across the sources, each prefixed by its source', async () => {
    const merged = mergeByTime([
      source('a', ['2026-12-04T08:00:00.1Z a1', '2026-12-04T08:00:00.30001Z a2', '2026-12-04T08:00:02Z a3']),
      source('b', ['2026-12-04T08:00:00.2Z b1', '2026-12-04T08:00:00.3Z b2']),
      source('c', ['2026-12-04T08:00:01.000Z c1']),
      source('d', []),
    ]);
    expect(await read(merged)).toEqual([
      'a 2026-12-04T08:00:00.1Z a1',
      'b 2026-12-04T08:00:00.2Z b1',
      'b 2026-12-04T08:00:00.3Z b2',
      'a 2026-12-04T08:00:00.30001Z a2',
      'c 2026-12-04T08:00:01.000Z c1',
      'a 2026-12-04T08:00:02Z a3',
    ]);
  });

  it('keeps a line without a time after the line before it, and lines of one time in the sources’ order', async () => {
    const merged = mergeByTime([
      source('a', ['2026-12-04T08:00:01Z a1', 'a2 (no time)', '2026-12-04T08:00:03Z a3']),
      source('b', ['b1 (no time)', '2026-12-04T08:00:01Z b2', '2026-12-04T08:00:02Z b3']),
    ]);
    expect(await read(merged)).toEqual([
      'b b1 (no time)',
      'a 2026-12-04T08:00:01Z a1',
      'a a2 (no time)',
      'b 2026-12-04T08:00:01Z b2',
      'b 2026-12-04T08:00:02Z b3',
      'a 2026-12-04T08:00:03Z a3',
    ]);
  });

  it("ends only a source's own lines when it fails mid-read", async () => {
    const merged = mergeByTime([
      source('a', ['2026-12-04T08:00:01Z a1'], new Error('No such container')),
      source('b', ['2026-12-04T08:00:00Z b1', '2026-12-04T08:00:02Z b2']),
    ]);
    expect(await read(merged)).toEqual([
      'b 2026-12-04T08:00:00Z b1',
      'a 2026-12-04T08:00:01Z a1',
      'b 2026-12-04T08:00:02Z b2',
    ]);
  });

  it('tells the sources still reading to stop when the reader stops', async () => {
    const stopped: string[] = [];
    const endless = (name: string): LineSource => ({
      prefix: name,
      lines: (async function* () {
        try {
          for (let s = 10; ; s++) yield `2026-12-04T08:00:${s}Z ${name}`;
        } finally {
          stopped.push(name);
        }
      })(),
    });
    const got: string[] = [];
    for await (const line of mergeByTime([endless('a'), endless('b'), source('c', [])])) {
      got.push(line.trimEnd());
      if (got.length === 3) break;
    }
    expect(got).toEqual(['a 2026-12-04T08:00:10Z a', 'b 2026-12-04T08:00:10Z b', 'a 2026-12-04T08:00:11Z a']);
    expect(stopped.sort()).toEqual(['a', 'b']);
  });
});
