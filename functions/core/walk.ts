import type { Page } from '../../schemas/common.ts';
import type { AppRecord, BilledTenant, PageRequest, Store, TenantRecord, UsageRecord } from './ports.ts';

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

/** Every item of `items` in one list. */
export async function listAll<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Every tenant, page by page. */
export function allTenants(store: Store): AsyncIterable<TenantRecord> {
  return allItems((page) => store.listTenants(page));
}

/** Every tenant in one list, for a job that works on several at once. */
export function listEveryTenant(store: Store): Promise<TenantRecord[]> {
  return listAll(allTenants(store));
}

/** Every tenant that may have usage to bill, deleted ones included, in one list. */
export function listEveryBilledTenant(store: Store): Promise<BilledTenant[]> {
  return listAll(allItems((page) => store.listBilledTenants(page)));
}

/** Every app of a tenant, page by page. */
export function allApps(store: Store, tenantId: string): AsyncIterable<AppRecord> {
  return allItems((page) => store.listApps(tenantId, page));
}

/** Usage rows read a page at a time: a few hundred KB a read. */
const USAGE_PAGE = 1000;

/** Every usage row of a tenant for the hours in [fromHour, toHour], by hour and then app, page by page. */
export function allUsage(
  store: Store,
  tenantId: string,
  fromHour: string,
  toHour: string,
): AsyncIterable<UsageRecord> {
  return allItems((page) => store.listUsage(tenantId, fromHour, toHour, page), USAGE_PAGE);
}

/** Every usage row of a tenant for the hours in [fromHour, toHour] in one list: a month's, for its bill. */
export function listEveryUsage(
  store: Store,
  tenantId: string,
  fromHour: string,
  toHour: string,
): Promise<UsageRecord[]> {
  return listAll(allUsage(store, tenantId, fromHour, toHour));
}
