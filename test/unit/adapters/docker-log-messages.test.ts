import { describe, expect, it } from 'vitest';
import { LONGEST_LINE_BYTES, logLines } from '../../../functions/adapters/docker/log-messages.ts';

const T1 = '2026-12-05T13:33:12.141337277Z';
const T2 = '2026-12-05T13:33:12.141506511Z';

/** One frame of Docker's multiplexed log: stream 1 is stdout, 2 stderr. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function linesOf(log: Buffer[]): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of logLines(log)) lines.push(line);
  return lines;
}

describe("Docker's log messages read as lines", () => {
  it('puts a line the engine kept in parts back together, with its time once, each stream on its own', async () => {
    const log = Buffer.concat([
      frame(1, `${T1} ${'a'.repeat(16384)}`),
      frame(2, `${T1} an error meanwhile\n`),
      frame(1, `${T1} ${'b'.repeat(16384)}`),
      frame(1, `${T1} ccc\n`),
      frame(1, `${T2} end\n`),
    ]);
    // Each line given as it ends, as it was written.
    expect(await linesOf([log])).toEqual([
      `${T1} an error meanwhile`,
      `${T1} ${'a'.repeat(16384)}${'b'.repeat(16384)}ccc`,
      `${T2} end`,
    ]);
  });

  it('reads frames split across chunks anywhere, a character across two chunks whole', async () => {
    const log = Buffer.concat([frame(1, `${T1} café ${'x'.repeat(20)}`), frame(1, `${T1} ☕\n`)]);
    const cut = log.indexOf('é') + 1;
    const chunks = [log.subarray(0, 3), log.subarray(3, cut), log.subarray(cut, 50), log.subarray(50)];
    expect(await linesOf(chunks)).toEqual([`${T1} café ${'x'.repeat(20)}☕`]);
  });

  it('gives a line the log ended without its newline, and cuts one longer than LONGEST_LINE_BYTES', async () => {
    const part = 'p'.repeat(16384);
    const parts = Math.ceil(LONGEST_LINE_BYTES / part.length) + 1;
    const log = Buffer.concat([
      ...Array.from({ length: parts }, () => frame(1, `${T1} ${part}`)),
      frame(2, `${T2} last`),
    ]);
    const lines = await linesOf([log]);
    expect(lines.map((line) => line.slice(0, T1.length + 2))).toEqual([`${T1} p`, `${T1} p`, `${T2} l`]);
    expect(lines[0]?.length).toBe(T1.length + 1 + (parts - 1) * part.length);
    expect(lines[1]).toBe(`${T1} ${part}`);
    expect(lines[2]).toBe(`${T2} last`);
  });

  it('gives a line of the other stream as it ends, while a line in parts is still coming', async () => {
    let end = () => {};
    const ended = new Promise<void>((resolve) => (end = resolve));
    // A followed log: the frames, then nothing until the container writes again.
    const followed = (async function* () {
      yield Buffer.concat([frame(1, `${T1} ${'a'.repeat(16384)}`), frame(2, `${T2} oops\n`)]);
      await ended;
    })();
    const lines = logLines(followed)[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe(`${T2} oops`);
    end();
    expect(await lines.next()).toEqual({ done: false, value: `${T1} ${'a'.repeat(16384)}` });
  });
});
