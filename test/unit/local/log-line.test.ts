import { describe, expect, it } from 'vitest';
import { logLine } from '../../../functions/shared/local.ts';

describe("the local platform's log", () => {
  it('writes a record on one line however long, and an error with its stack and causes', () => {
    const repeated = {
      app: 'acme/web',
      failures: 2,
      error:
        'the Docker Engine is unavailable; retry shortly; cause: connect ECONNREFUSED /var/run/docker.sock',
    };
    expect(logLine('reconcile failed', repeated)).toBe(
      "[berth] reconcile failed { app: 'acme/web', failures: 2, error: 'the Docker Engine is unavailable; retry " +
        "shortly; cause: connect ECONNREFUSED /var/run/docker.sock' }",
    );
    const first = logLine('reconcile failed', {
      failures: 1,
      error: new Error('the Docker Engine is unavailable', { cause: new Error('connect ECONNREFUSED') }),
    });
    expect(first).toMatch(
      /^\[berth\] reconcile failed \{\n {2}failures: 1,\n {2}error: Error: the Docker Engine is unavailable\n\s+at /,
    );
    expect(first).toContain('[cause]: Error: connect ECONNREFUSED');
  });
});
