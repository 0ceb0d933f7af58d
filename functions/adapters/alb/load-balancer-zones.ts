import {
  DescribeLoadBalancersCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { allPages } from '../aws/pages.ts';
import type { RetryOptions } from '../aws/retry.ts';

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
      const pages = allPages(
        (Marker) => this.elb.send(new DescribeLoadBalancersCommand({ Marker, PageSize: 400 })),
        (page) => page.NextMarker,
        this.retry,
      );
      for await (const page of pages) {
        for (const lb of page.LoadBalancers ?? []) {
          if (lb.DNSName && lb.CanonicalHostedZoneId)
            this.zones.set(lb.DNSName.toLowerCase(), lb.CanonicalHostedZoneId);
        }
      }
    }
    return this.zones.get(name);
  }
}
