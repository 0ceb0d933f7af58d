import type { Page } from '../../schemas/common.ts';
import type { AppRecord, PageRequest, Store, TenantRecord } from './ports.ts';

const PAGE = 100;

/** Every item of a paged list, page by page: a loop that stops early reads no further page. */
export async function* allItems<T>(
  read: (page: PageRequest) => Promise<Page<T>>,
  limit = PAGE,
): AsyncIterable<T> {
  let cursor: string | undefined;
  do {
    const page = await read({ limit, cursor });
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** Every tenant, page by page. */
export function allTenants(store: Store): AsyncIterable<TenantRecord> {
  return allItems((page) => store.listTenants(page));
}

/** Every tenant in one list, for a job that works on several at once. */
export async function listEveryTenant(store: Store): Promise<TenantRecord[]> {
  const tenants: TenantRecord[] = [];
  for await (const tenant of allTenants(store)) tenants.push(tenant);
  return tenants;
}

/** Every app of a tenant, page by page. */
export function allApps(store: Store, tenantId: string): AsyncIterable<AppRecord> {
  return allItems((page) => store.listApps(tenantId, page));
}
