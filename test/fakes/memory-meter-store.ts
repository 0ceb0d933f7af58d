import type { LifetimeRecord, MeterStore, ReportArchive, UsageRecord } from '../../functions/core/ports.ts';
import type { BillingReport, PriceTable } from '../../schemas/billing.ts';
import type { MemoryStore } from './memory-store.ts';

/** The MeterStore in memory, with the same watermark and tombstone rules as the DynamoDB one. */
export class MemoryMeterStore implements MeterStore {
  readonly open = new Map<string, LifetimeRecord>();
  readonly closed = new Set<string>();
  readonly reports = new Map<string, BillingReport>();
  readonly prices = new Map<string, PriceTable>();
  finalThrough: string | undefined;

  constructor(private readonly store: MemoryStore) {}

  async observeLifetime(lifetime: LifetimeRecord) {
    const key = `${lifetime.tenantId}/${lifetime.instanceId}`;
    if (this.closed.has(key)) return;
    const existing = this.open.get(key);
    if (!existing) this.open.set(key, { ...lifetime });
    else if (existing.stoppedSec === null && lifetime.stoppedSec !== null)
      existing.stoppedSec = lifetime.stoppedSec;
  }

  async listOpenLifetimes(tenantId: string) {
    return [...this.open.values()].filter((l) => l.tenantId === tenantId).map((l) => ({ ...l }));
  }

  async accrueLifetime(lifetime: LifetimeRecord, toSec: number, usage: UsageRecord[], close: boolean) {
    const key = `${lifetime.tenantId}/${lifetime.instanceId}`;
    const current = this.open.get(key);
    if (
      !current ||
      current.meteredSec !== lifetime.meteredSec ||
      current.stoppedSec !== lifetime.stoppedSec
    ) {
      return false;
    }
    // Check and move the watermark before any await, so concurrent calls see it moved (as a transaction would).
    if (close) {
      this.open.delete(key);
      this.closed.add(key);
    } else current.meteredSec = toSec;
    for (const u of usage) await this.store.addUsage(u);
    return true;
  }

  async putReport(report: BillingReport) {
    this.reports.set(`${report.tenant}/${report.period}`, report);
  }

  async getReport(tenantId: string, period: string) {
    return this.reports.get(`${tenantId}/${period}`);
  }

  async reportsFinalThrough() {
    return this.finalThrough;
  }

  async markReportsFinalThrough(period: string) {
    if (this.finalThrough === undefined || this.finalThrough < period) this.finalThrough = period;
  }

  async monthPrices(period: string, prices: PriceTable) {
    if (!this.prices.has(period)) this.prices.set(period, prices);
    return this.prices.get(period) ?? prices;
  }
}

/** Filed reports, by `<tenant>/<period>`, with their CSV. */
export class MemoryReportArchive implements ReportArchive {
  readonly files = new Map<string, { report: BillingReport; csv: string }>();

  async store(report: BillingReport, csv: string) {
    this.files.set(`${report.tenant}/${report.period}`, { report, csv });
  }
}
