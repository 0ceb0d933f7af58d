import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { thenFlush } from '../../../functions/handlers/lambda.ts';

describe('thenFlush', () => {
  it('waits for what a job left in flight before the Lambda returns, the job failed or not', async () => {
    const order: string[] = [];
    const inFlight = {
      flush: async () => {
        await sleep(10);
        order.push('flushed');
      },
    };
    const job = async () => {
      order.push('job');
      return 42;
    };
    expect(await thenFlush(inFlight, job)).toBe(42);
    const failing = async () => {
      order.push('failing job');
      throw new Error('the table is down');
    };
    await expect(thenFlush(inFlight, failing)).rejects.toThrow('the table is down');
    expect(order).toEqual(['job', 'flushed', 'failing job', 'flushed']);
  });
});
