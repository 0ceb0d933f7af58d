import {
  DescribeLoadBalancersCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';

/**
 * The canonical hosted zones of the account's load balancers, by DNS name: what a Route 53 alias to a load balancer
 * Berth did not create (the AWS Load Balancer Controller's) needs. Read once per name found.
 */
export class LoadBalancerZones {
  private readonly zones = new Map<string, string>();

  constructor(
    private readonly elb: ElasticLoadBalancingV2Client,
    private readonly retry: RetryOptions = {},
  ) {}

  /** The zone of the load balancer answering at `dnsName`; undefined while none does. */
  async zoneOf(dnsName: string): Promise<string | undefined> {
    const name = dnsName.toLowerCase();
    if (!this.zones.has(name)) {
      let marker: string | undefined;
      do {
        const page = await withThrottlingRetry(
          () => this.elb.send(new DescribeLoadBalancersCommand({ Marker: marker, PageSize: 400 })),
          this.retry,
        );
        for (const lb of page.LoadBalancers ?? []) {
          if (lb.DNSName && lb.CanonicalHostedZoneId)
            this.zones.set(lb.DNSName.toLowerCase(), lb.CanonicalHostedZoneId);
        }
        marker = page.NextMarker;
      } while (marker);
    }
    return this.zones.get(name);
  }
}
