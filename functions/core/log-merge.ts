/** One replica's lines, to be prefixed by its short id. */
export interface LineSource {
  prefix: string;
  lines: AsyncIterable<string>;
}

/** When a line was written: milliseconds since the epoch, and the nanoseconds past that millisecond. */
export interface LineTime {
  ms: number;
  ns: number;
}

/** An RFC 3339 time at the start of a line, as Docker, Kubernetes and Berth's CloudWatch reader write them. */
const LINE_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)(?= |$)/;

/**
 * The time a log line begins with, to the nanosecond (Docker's and the kubelet's trim trailing zeros off the
 * fraction, so their texts do not sort); undefined for a line without one.
 */
export function lineTime(line: string): LineTime | undefined {
  const match = LINE_TIME.exec(line);
  if (!match) return undefined;
  const second = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(second)) return undefined;
  const fraction = (match[2] ?? '').padEnd(9, '0');
  return { ms: second + Number(fraction.slice(0, 3)), ns: Number(fraction.slice(3)) };
}

/**
 * A replica's lines from the first written at or after `since` (to the millisecond, as `since` is given): Docker and
 * the kubelet take a time to the second, so their answer may begin up to a second before it.
 */
export async function* writtenSince(lines: AsyncIterable<string>, since: Date): AsyncIterable<string> {
  let reached = false;
  for await (const line of lines) {
    reached ||= (lineTime(line)?.ms ?? Number.POSITIVE_INFINITY) >= since.getTime();
    if (reached) yield line;
  }
}

/** A line of the merged log: its source's prefix, the line, a newline. */
const prefixed = (prefix: string, line: string) => `${prefix} ${line}\n`;

const earlier = (a: LineTime, b: LineTime) => a.ms < b.ms || (a.ms === b.ms && a.ns < b.ns);

/** Before any line's time: where a source's first line goes when it has none of its own. */
const FIRST: LineTime = { ms: Number.NEGATIVE_INFINITY, ns: 0 };

/**
 * The next item of an iterator; one that fails (a replica removed mid-read) simply ends, so one replica's trouble
 * never cuts the others' logs short.
 */
const nextItem = <T>(it: AsyncIterator<T>): Promise<IteratorResult<T>> =>
  it.next().catch(() => ({ done: true, value: undefined }));

/** An iterator's next item, tagged with the iterator's place. */
type Next<T> = { i: number; r: IteratorResult<T> };

/** The next item of one iterator, tagged with its place. */
const nextOf = <T>(it: AsyncIterator<T>, i: number): Promise<Next<T>> => nextItem(it).then((r) => ({ i, r }));

/**
 * The lines of sources that each end, in the order they were written, each prefixed by its source — as a platform's
 * log view reads several replicas' logs: a k-way merge by each line's leading time, which each source's lines are
 * already in. A line without a time keeps its place after the line before it in its source; lines of the same time
 * go in the sources' order.
 */
export async function* mergeByTime(sources: LineSource[]): AsyncIterable<string> {
  const heads = await Promise.all(
    sources.map(async (source) => {
      const it = source.lines[Symbol.asyncIterator]();
      const r = await nextItem(it);
      return { prefix: source.prefix, it, r, time: (!r.done && lineTime(r.value)) || FIRST };
    }),
  );
  try {
    for (;;) {
      let head: (typeof heads)[number] | undefined;
      for (const candidate of heads) {
        if (!candidate.r.done && (!head || earlier(candidate.time, head.time))) head = candidate;
      }
      if (!head) return;
      yield prefixed(head.prefix, head.r.value);
      head.r = await nextItem(head.it);
      if (!head.r.done) head.time = lineTime(head.r.value) ?? head.time;
    }
  } finally {
    // Closed early (the reader stopped): the sources still reading are told to stop too, without waiting for them.
    for (const { it, r } of heads) if (!r.done) it.return?.().catch(() => {});
  }
}

/** Where the sources that join are awaited, among the sources' places. */
const JOINING = -1;

/**
 * Interleaves several line streams as lines arrive, each line prefixed by its source; `joining` adds sources: how
 * followed logs are read, where a source that waits for its next line must hold back no other.
 */
export async function* mergeAsTheyCome(
  sources: LineSource[],
  joining: AsyncIterable<LineSource>,
): AsyncIterable<string> {
  const iterators: { prefix: string; it: AsyncIterator<string> }[] = [];
  const pending = new Map<number, Promise<Next<string>>>();
  const add = (s: LineSource) => {
    const it = s.lines[Symbol.asyncIterator]();
    const i = iterators.push({ prefix: s.prefix, it }) - 1;
    pending.set(i, nextOf(it, i));
  };
  for (const s of sources) add(s);
  const joiner = joining[Symbol.asyncIterator]();
  let joins: Promise<Next<LineSource>> | undefined = nextOf(joiner, JOINING);
  try {
    while (pending.size > 0 || joins) {
      const next: Next<string> | Next<LineSource> = await Promise.race([
        ...pending.values(),
        ...(joins ? [joins] : []),
      ]);
      if (next.i === JOINING) {
        const joined = next.r as IteratorResult<LineSource>;
        if (joined.done) joins = undefined;
        else {
          add(joined.value);
          joins = nextOf(joiner, JOINING);
        }
        continue;
      }
      const { i, r } = next as Next<string>;
      const source = iterators[i];
      if (r.done || !source) {
        pending.delete(i);
        continue;
      }
      yield prefixed(source.prefix, r.value);
      pending.set(i, nextOf(source.it, i));
    }
  } finally {
    // Closed early (the reader stopped): the sources still reading are told to stop too, without waiting for them.
    for (const i of pending.keys()) iterators[i]?.it.return?.().catch(() => {});
    joiner.return?.().catch(() => {});
  }
}
