import type { AnswerCache } from './ports.ts';

/** Answers above this many are forgotten all at once: a process keeps a bounded handful. */
const MAX_KEPT = 1000;

/**
 * Answers kept in this process for `keepMs`, by key. A second ask within that time gets the first answer (or joins
 * its computation); a failed answer is not kept.
 */
export class RecentAnswers implements AnswerCache {
  private readonly kept = new Map<string, { atMs: number; answer: Promise<unknown> }>();

  constructor(
    private readonly keepMs: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const now = this.nowMs();
    const kept = this.kept.get(key);
    if (kept && now - kept.atMs < this.keepMs) return kept.answer as Promise<T>;
    if (this.kept.size >= MAX_KEPT) this.kept.clear();
    const answer = compute();
    const entry = { atMs: now, answer };
    this.kept.set(key, entry);
    answer.catch(() => {
      if (this.kept.get(key) === entry) this.kept.delete(key);
    });
    return answer;
  }
}
