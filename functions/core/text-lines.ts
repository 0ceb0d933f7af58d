import { StringDecoder } from 'node:string_decoder';

/**
 * The lines of a UTF-8 byte stream, split at `\n` only (a `\r` stays in its line), the last one even without its
 * newline. A character whose bytes two chunks share is decoded whole.
 */
export async function* textLines(chunks: AsyncIterable<Buffer>): AsyncIterable<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of chunks) {
    const parts = (rest + decoder.write(chunk)).split('\n');
    rest = parts.pop() ?? '';
    yield* parts;
  }
  rest += decoder.end();
  if (rest) yield rest;
}
