import { generateApiKey, hashApiKey, makeKeyAuthenticator } from '../../functions/core/api-keys.ts';
import { seedPlans } from '../../functions/core/plans.ts';
import type { CoreDeps } from '../../functions/core/ports.ts';
import type { ApiDeps } from '../../functions/http/context.ts';
import type { AuditEntry } from '../../functions/http/middleware/audit.ts';
import type { ReportDeps } from '../../functions/jobs/report.ts';
import { DEFAULT_PRICE_TABLE } from '../../schemas/billing.ts';
import { FakeHosts } from './fake-hosts.ts';
import { FakeRegistry } from './fake-registry.ts';
import { MemoryMeterStore, MemoryReportArchive } from './memory-meter-store.ts';
import { MemoryStore } from './memory-store.ts';

/** A clock tests move by hand. */
export class ManualClock {
  constructor(public current = new Date('2026-11-22T10:00:00.000Z')) {}
  now() {
    return new Date(this.current);
  }
  advance(ms: number) {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Core deps over fakes, with the seeded plans. */
export async function fakeCoreDeps(): Promise<
  ReportDeps & {
    store: MemoryStore;
    meter: MemoryMeterStore;
    clock: ManualClock;
    registry: FakeRegistry;
    hosts: FakeHosts;
    logged: Record<string, unknown>[];
  }
> {
  const store = new MemoryStore();
  const deps = {
    store,
    meter: new MemoryMeterStore(store),
    prices: DEFAULT_PRICE_TABLE,
    reportArchive: new MemoryReportArchive(),
    clock: new ManualClock(),
    appUrl: (tenantId: string, app: string) => `http://${app}.${tenantId}.localhost:8000`,
    registry: new FakeRegistry(store),
    hosts: new FakeHosts(),
    runtimes: ['docker'] as const satisfies CoreDeps['runtimes'],
    /** What the jobs logged: a tenant or an app they could not do. */
    logged: [] as Record<string, unknown>[],
    logger: {
      error(message: string, details: Record<string, unknown>) {
        deps.logged.push({ message, ...details });
      },
    },
  };
  await seedPlans(deps);
  return deps;
}

/** API deps over fakes; `errors` collects what the API logged, `audited` its audit log. */
export async function fakeApiDeps(rateLimit = { ratePerSecond: 1e9, burst: 1e9 }) {
  const core = await fakeCoreDeps();
  const adminKey = generateApiKey();
  const errors: unknown[] = [];
  const audited: AuditEntry[] = [];
  const logger: ApiDeps['logger'] = { error: (_message, details) => errors.push(details) };
  const deps: ApiDeps & ReportDeps & { store: MemoryStore; clock: ManualClock; hosts: FakeHosts } = {
    ...core,
    auth: makeKeyAuthenticator(core, { adminKeyHashes: [hashApiKey(adminKey)], logger }),
    rateLimit,
    logger,
    audit: { record: (entry) => audited.push(entry) },
  };
  return { deps, adminKey, errors, audited };
}
