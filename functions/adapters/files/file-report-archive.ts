import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BillingReport } from '../../../schemas/billing.ts';
import type { ReportArchive } from '../../core/ports.ts';

/** The report job's reports as files under `<dir>/<period>/<tenant>.csv` and `.json` (local mode). */
export class FileReportArchive implements ReportArchive {
  constructor(private readonly dir: string) {}

  async store(report: BillingReport, csv: string): Promise<void> {
    const dir = join(this.dir, report.period);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, `${report.tenant}.json`), JSON.stringify(report, null, 2), { mode: 0o600 });
    await writeFile(join(dir, `${report.tenant}.csv`), csv, { mode: 0o600 });
  }
}
