import { describe, expect, it } from 'vitest';
import { targetHealthInsights } from '../../../functions/adapters/alb/target-health-insights.ts';
import type { AppRecord } from '../../../functions/core/ports.ts';
import { replica } from '../../fakes/fake-runtime.ts';

describe('replica insights on AWS', () => {
  it('take health from the load balancer and restarts from the failed tasks of the revision before it', async () => {
    const at = (time: string) => `2026-11-22T10:${time}:00.000Z`;
    const first = { ...replica('acme', 'web', at('01')), endpoint: { host: '10.0.0.6', port: 8080 } };
    const latest = { ...replica('acme', 'web', at('05')), endpoint: { host: '10.0.0.5', port: 8080 } };
    const stopped = (time: string, exitCode: number) => ({
      ...replica('acme', 'web', at(time)),
      state: 'exited' as const,
      exitCode,
      endpoint: null,
    });
    const lookups: string[] = [];
    const insights = targetHealthInsights({
      targetHealth: async (tenantId, app) => {
        lookups.push(`${tenantId}/${app}`);
        return new Map([
          ['10.0.0.5:8080', 'healthy'],
          ['10.0.0.6:8080', 'unhealthy'],
        ]);
      },
    });
    // Two tasks failed before the latest started (one after the first); a task scaled in (exit 0, or 143 on the
    // SIGTERM of its service's stop) is no failure.
    const scaledIn = { ...stopped('04', 143), stopRequested: true };
    const replicas = [latest, first, stopped('00', 1), stopped('02', 137), stopped('03', 0), scaledIn];
    const result = await insights({ tenantId: 'acme', name: 'web' } as AppRecord, replicas);
    expect(result.get(latest.id)).toEqual({ ready: true, unhealthy: false, restarts: 2 });
    expect(result.get(first.id)).toEqual({ ready: false, unhealthy: true, restarts: 1 });
    expect(lookups).toEqual(['acme/web']);
  });
});
