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

/**
 * Each stream's line in parts until its last part comes, the first part with the line's time: a line is given when
 * it ends, as it was written, so a line of the other stream never waits for one still coming.
 */
class OpenLines {
  private readonly open = new Map<number, { parts: Buffer[]; bytes: number }>();

  /** The line `message` ends, if it does: with the parts before it, or one cut at LONGEST_LINE_BYTES before it. */
  *add({ stream, payload }: Message): Iterable<string> {
    let line = this.open.get(stream);
    if (line && line.bytes >= LONGEST_LINE_BYTES) {
      yield* linesOf(line.parts);
      line = undefined;
    }
    const part = line ? payload.subarray(payload.indexOf(SPACE) + 1) : payload;
    const parts = [...(line?.parts ?? []), part];
    if (part.at(-1) === NEWLINE) {
      this.open.delete(stream);
      yield* linesOf(parts);
    } else this.open.set(stream, { parts, bytes: (line?.bytes ?? 0) + part.length });
  }

  /** The lines the log ended without their newline (a container's last, unfinished). */
  *rest(): Iterable<string> {
    for (const { parts } of this.open.values()) yield* linesOf(parts);
    this.open.clear();
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
