import { UnavailableError } from '../../core/errors.ts';

/**
 * How long Berth waits for the Docker Engine to answer a call before it gives the call up as unavailable. The engine
 * answers in milliseconds, or seconds under load; dockerode sets no bound, so an engine that takes the connection and
 * never answers (stuck on the kernel, say) held an API request or a loop's tick for ever. A pull is answered once the
 * engine has reached the registry, within the engine's own timeouts to it (30 s to connect), hence its longer bound.
 * A streamed answer (a pull's progress, a followed log, stats, events) is bounded until it begins; the stream is read
 * for as long as its reader wants — but for a pull's, which must show progress every `pullProgress` ms. kubelet
 * bounds its calls to the container runtime alike (2 minutes, and a minute without a pull's progress).
 */
export const ENGINE_ANSWER_MS = { call: 30_000, pull: 120_000, pullProgress: 60_000 };

/** A call to the engine, given the signal that aborts it. */
export type EngineCall<T> = (abortSignal: AbortSignal) => Promise<T>;

/**
 * `call`'s answer, or an UnavailableError once `ms` pass without it (the bounds' `call` when not given): the call's
 * signal is aborted then, so the engine's connection is closed — dockerode passes the signal on for all but a few
 * calls, which are given up all the same.
 */
export type Answered = <T>(call: EngineCall<T>, ms?: number) => Promise<T>;

/** Engine calls bounded by `bounds`. */
export const answeredIn =
  (bounds = ENGINE_ANSWER_MS): Answered =>
  (call, ms = bounds.call) =>
    answeredWithin(ms, call);

/** Engine calls bounded by ENGINE_ANSWER_MS. */
export const answered = answeredIn();

async function answeredWithin<T>(ms: number, call: EngineCall<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const givenUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new UnavailableError(
        `the Docker Engine did not answer within ${ms / 1000} s; retry shortly`,
      );
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([call(controller.signal), givenUp]);
  } finally {
    clearTimeout(timer);
  }
}
