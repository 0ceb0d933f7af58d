import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BillingReport } from '../../../schemas/billing.ts';
import type { ReportArchive } from '../../core/ports.ts';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';

/** The report job's reports in the report bucket: `reports/<period>/<tenant>.csv` and `.json`, encrypted at rest. */
export class S3ReportArchive implements ReportArchive {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly retry: RetryOptions = {},
  ) {}

  async store(report: BillingReport, csv: string): Promise<void> {
    const key = `reports/${report.period}/${report.tenant}`;
    const put = (suffix: string, body: string, contentType: string) =>
      withThrottlingRetry(
        () =>
          this.s3.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: `${key}.${suffix}`,
              Body: body,
              ContentType: contentType,
              ServerSideEncryption: 'AES256',
            }),
          ),
        this.retry,
      );
    await put('json', JSON.stringify(report), 'application/json');
    await put('csv', csv, 'text/csv; charset=utf-8');
  }
}
