import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { S3ReportArchive } from '../../../functions/adapters/s3/s3-report-archive.ts';
import type { BillingReport } from '../../../schemas/billing.ts';

describe('S3ReportArchive', () => {
  it('files a report as encrypted JSON and CSV under reports/<period>/<tenant>', async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
      .resolves({});
    const report = { tenant: 'acme', period: '2026-10' } as BillingReport;
    await new S3ReportArchive(new S3Client({}), 'berth-reports', { sleep: async () => undefined }).store(
      report,
      'a,b\r\n',
    );
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'berth-reports',
      Key: 'reports/2026-10/acme.csv',
      Body: 'a,b\r\n',
      ContentType: 'text/csv; charset=utf-8',
      ServerSideEncryption: 'AES256',
    });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: 'reports/2026-10/acme.json',
      ContentType: 'application/json',
    });
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 3);
  });
});
