import type { BillingReport } from '../../schemas/billing.ts';

const HEADER = [
  'tenant',
  'period',
  'status',
  'price_table',
  'app',
  'vcpu_seconds',
  'memory_gib_seconds',
  'instance_seconds',
  'cost_micro_usd',
  'cost_usd',
];

/** RFC 4180 quoting; a leading = + - @ is neutralised so a spreadsheet never runs a cell as a formula. */
function cell(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Reports as CSV: a row per line item, then a `TOTAL` row per tenant. */
export function reportsCsv(reports: BillingReport[]): string {
  const rows = [HEADER];
  for (const r of reports) {
    const base = [r.tenant, r.period, r.status, r.priceTable.version];
    for (const item of [...r.lineItems, { app: 'TOTAL', ...r.total }]) {
      rows.push([
        ...base,
        item.app,
        String(item.vcpuSeconds),
        String(item.memoryGiBSeconds),
        String(item.instanceSeconds),
        String(item.costMicroUsd),
        item.cost,
      ]);
    }
  }
  return `${rows.map((row) => row.map(cell).join(',')).join('\r\n')}\r\n`;
}
