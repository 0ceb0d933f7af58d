import { ChangeResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { isAwsError, type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';

/** A load balancer an app's name can point at: its DNS name and canonical hosted zone. */
export interface AliasTarget {
  dnsName: string;
  zoneId: string;
}

/** Apps' alias records in the Route 53 zone of their domain. */
export class Route53AppRecords {
  constructor(
    private readonly route53: Route53Client,
    readonly hostedZoneId: string,
    private readonly retry: RetryOptions = {},
  ) {}

  /** Points `host` at the load balancer (UPSERT: creating and moving are the same call). */
  point(host: string, target: AliasTarget): Promise<void> {
    return this.change('UPSERT', host, target);
  }

  /** Removes the alias of `host` to that load balancer; a record already gone is no error. */
  async remove(host: string, target: AliasTarget): Promise<void> {
    try {
      await this.change('DELETE', host, target);
    } catch (err) {
      if (!isAwsError(err, 'InvalidChangeBatch')) throw err;
    }
  }

  private async change(action: 'UPSERT' | 'DELETE', host: string, target: AliasTarget): Promise<void> {
    await withThrottlingRetry(
      () =>
        this.route53.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: this.hostedZoneId,
            ChangeBatch: {
              Changes: [
                {
                  Action: action,
                  ResourceRecordSet: {
                    Name: host,
                    Type: 'A',
                    AliasTarget: {
                      DNSName: target.dnsName,
                      HostedZoneId: target.zoneId,
                      EvaluateTargetHealth: false,
                    },
                  },
                },
              ],
            },
          }),
        ),
      this.retry,
    );
  }
}
