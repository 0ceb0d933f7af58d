import { describe, expect, it } from 'vitest';
import { targetHealthInsights } from '../../../functions/adapters/alb/target-health-insights.ts';
import type { AppRecord } from '../../../functions/core/ports.ts';
import { replica } from '../../fakes/fake-runtime.ts';

describe('replica insights on AWS', () => {
  it('take health from the load balancer and restarts from the stopped tasks of the same slot', async () => {
    const now = {
      ...replica('acme', 'web', '2026-11-22T10:05:00.000Z'),
      slot: 0,
      endpoint: { host: '10.0.0.5', port: 8080 },
    };
    const crashed = (at: string) => ({
      ...replica('acme', 'web', at),
      slot: 0,
      state: 'exited' as const,
      endpoint: null,
    });
    const other = {
      ...replica('acme', 'web', '2026-11-22T10:05:00.000Z'),
      slot: 1,
      endpoint: { host: '10.0.0.6', port: 8080 },
    };
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
    const replicas = [now, crashed('2026-11-22T10:00:00.000Z'), crashed('2026-11-22T10:02:00.000Z'), other];
    const result = await insights({ tenantId: 'acme', name: 'web' } as AppRecord, replicas);
    expect(result.get(now.id)).toEqual({ ready: true, unhealthy: false, restarts: 2 });
    expect(result.get(other.id)).toEqual({ ready: false, unhealthy: true, restarts: 0 });
    expect(lookups).toEqual(['acme/web']);
  });
});
