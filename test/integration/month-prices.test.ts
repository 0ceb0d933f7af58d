import { expect, it } from 'vitest';
import { DEFAULT_PRICE_TABLE } from '../../schemas/billing.ts';
import { localApi } from '../support/local-api.ts';

it('keeps the first price table given for a month on DynamoDB Local, whichever of many at once comes first', async () => {
  const { deps } = await localApi();
  const tables = Array.from({ length: 8 }, (_, i) => ({ ...DEFAULT_PRICE_TABLE, version: `v${i}` }));
  const kept = await Promise.all(tables.map((table) => deps.meter.monthPrices('2026-11', table)));
  const [first] = kept;
  expect(tables).toContainEqual(first);
  expect(kept).toEqual(tables.map(() => first));
  // Once kept, it stays; another month keeps its own.
  expect(await deps.meter.monthPrices('2026-11', DEFAULT_PRICE_TABLE)).toEqual(first);
  expect(await deps.meter.monthPrices('2026-12', tables[3] ?? DEFAULT_PRICE_TABLE)).toEqual(tables[3]);
});
