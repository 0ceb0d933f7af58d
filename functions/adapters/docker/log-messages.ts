/**
 * The lines of a container's log as Docker Engine sends it with timestamps: multiplexed frames of an 8-byte header
 * (stream, 0, 0, 0, size as big-endian uint32) and a payload, one log message each, `<time> <text>`. The engine keeps
 * a line longer than 16 KiB as messages of its parts, each with the line's time and only the last ending in `\n`
 * (`docker logs -t` shows the times mid-line); the lines here are whole again, each with its time once.
 */

const NEWLINE = 0x0a;
const SPACE = 0x20;

/**
 * A line longer than this is cut, each piece a line of its own with the line's time, as awslogs on Fargate cuts one
 * into events of at most 256 KiB: so a log whose line never ends (a progress bar redrawn with `\r`) never grows in the
 * platform's memory.
 */
export const LONGEST_LINE_BYTES = 256 * 1024;

interface Message {
  /** 1 for stdout, 2 for stderr. */
  stream: number;
  payload: Buffer;
}

/** The whole frames in `buffer`, and what is left of an incomplete last one. */
function splitFrames(buffer: Buffer): { messages: Message[]; rest: Buffer } {
  const messages: Message[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const end = offset + 8 + buffer.readUInt32BE(offset + 4);
    if (end > buffer.length) break;
    messages.push({ stream: buffer.readUInt8(offset), payload: buffer.subarray(offset + 8, end) });
    offset = end;
  }
  return { messages, rest: buffer.subarray(offset) };
}

/** The lines of a message's text (Docker's each hold one, but a payload is split wherever it holds `\n`). */
function linesOf(parts: Buffer[]): string[] {
  const text = Buffer.concat(parts).toString('utf8');
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
}

interface Line {
  stream: number;
  /** The first with the line's time, the rest without. */
  parts: Buffer[];
  bytes: number;
  ended: boolean;
}

/**
 * Lines in parts, given in the order they began (their time's order) as each ends: a line of one stream that ends
 * while the other's, begun before it, is still coming waits for that one.
 */
class OpenLines {
  private readonly lines: Line[] = [];
  private bytes = 0;

  /** The lines `message` lets go of: its own, once it ends, and those that waited for it. */
  *add({ stream, payload }: Message): Iterable<string> {
    let line = this.lines.find((l) => l.stream === stream && !l.ended);
    if (line && line.bytes >= LONGEST_LINE_BYTES) line.ended = true;
    if (line && !line.ended) {
      const part = payload.subarray(payload.indexOf(SPACE) + 1);
      line.parts.push(part);
      line.bytes += part.length;
    } else {
      line = { stream, parts: [payload], bytes: payload.length, ended: false };
      this.lines.push(line);
    }
    this.bytes += line.parts.at(-1)?.length ?? 0;
    if (payload.at(-1) === NEWLINE) line.ended = true;
    // Lines held behind one that does not end are bounded too: it is cut.
    const first = this.lines[0];
    if (first && this.bytes > 2 * LONGEST_LINE_BYTES) first.ended = true;
    while (this.lines[0]?.ended) yield* this.release();
  }

  /** The lines the log ended with, ended or not (a container's last line, without its newline). */
  *rest(): Iterable<string> {
    while (this.lines.length > 0) yield* this.release();
  }

  private release(): string[] {
    const line = this.lines.shift();
    if (!line) return [];
    this.bytes -= line.bytes;
    return linesOf(line.parts);
  }
}

/** The lines of a multiplexed log read as it comes (frames split across chunks put back together), or read whole. */
export async function* logLines(log: AsyncIterable<Buffer> | Buffer[]): AsyncIterable<string> {
  const lines = new OpenLines();
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of log) {
    const split = splitFrames(rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk);
    for (const message of split.messages) yield* lines.add(message);
    rest = split.rest;
  }
  yield* lines.rest();
}
