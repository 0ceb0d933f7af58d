import { describe, expect, it } from 'vitest';
import { textLines } from '../../../functions/core/text-lines.ts';

async function linesOf(chunks: Buffer[]): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of textLines(
    (async function* () {
      yield* chunks;
    })(),
  ))
    lines.push(line);
  return lines;
}

describe('the lines of a byte stream', () => {
  it('decodes a character whose bytes two chunks share, and keeps a carriage return in its line', async () => {
    const text = Buffer.from('naïve café\r\nprogress 10%\rprogress 20%\n\nlast, without its newline');
    const at = text.indexOf(Buffer.from('é')) + 1; // between the two bytes of é
    expect(await linesOf([text.subarray(0, at), text.subarray(at)])).toEqual([
      'naïve café\r',
      'progress 10%\rprogress 20%',
      '',
      'last, without its newline',
    ]);
  });

  it('yields nothing for nothing, and no empty last line after a final newline', async () => {
    expect(await linesOf([])).toEqual([]);
    expect(await linesOf([Buffer.from('one\n')])).toEqual(['one']);
  });
});
