import type { AppRecord, Store, TenantRecord } from './ports.ts';

const PAGE = 100;

/** Every tenant, page by page. */
export async function* allTenants(store: Store): AsyncIterable<TenantRecord> {
  let cursor: string | undefined;
  do {
    const page = await store.listTenants({ limit: PAGE, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** Every tenant in one list, for a job that works on several at once. */
export async function listEveryTenant(store: Store): Promise<TenantRecord[]> {
  const tenants: TenantRecord[] = [];
  for await (const tenant of allTenants(store)) tenants.push(tenant);
  return tenants;
}

/** Every app of a tenant, page by page. */
export async function* allApps(store: Store, tenantId: string): AsyncIterable<AppRecord> {
  let cursor: string | undefined;
  do {
    const page = await store.listApps(tenantId, { limit: PAGE, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
