import { ListHostedZonesByVPCCommand, type Route53Client, type VPCRegion } from '@aws-sdk/client-route-53';
import type { HostResolver } from '../../core/ports.ts';
import { RecentAnswers } from '../../core/recent-answers.ts';
import { allPages } from '../aws/pages.ts';
import type { RetryOptions } from '../aws/retry.ts';

/** How long the zones, once read, answer: a zone newly associated with the VPC counts within this time. */
export const ZONES_KEPT_MS = 5 * 60_000;

/** A DNS name as zones and hosts are compared: lowercase, without the root's dot. */
const dnsName = (name: string) => name.toLowerCase().replace(/\.$/, '');

/**
 * The private hosted zones associated with the VPCs apps run in (Fargate's, an EKS cluster's): names their tasks and
 * pods resolve through the VPC's resolver, and the control plane, outside it, does not (or not alike). Every zone
 * counts, whoever owns it: the account, another account, or a service (EFS, say). Read with ListHostedZonesByVPC
 * and kept for ZONES_KEPT_MS; a read that fails is not kept, and throttling that lasts answers 503.
 */
export class VpcPrivateDomains implements Pick<HostResolver, 'privateDomainOf'> {
  private readonly zones: RecentAnswers;

  constructor(
    private readonly route53: Route53Client,
    private readonly vpcs: { ids: string[]; region: string },
    private readonly options: RetryOptions & { now?: () => number } = {},
  ) {
    this.zones = new RecentAnswers(ZONES_KEPT_MS, options.now);
  }

  async privateDomainOf(host: string): Promise<string | undefined> {
    const name = dnsName(host);
    const domains = await this.zones.get('zones', () => this.listZones());
    return domains.find((domain) => name === domain || name.endsWith(`.${domain}`));
  }

  private async listZones(): Promise<string[]> {
    return (await Promise.all(this.vpcs.ids.map((id) => this.zonesOf(id)))).flat();
  }

  private async zonesOf(vpcId: string): Promise<string[]> {
    const domains: string[] = [];
    const pages = allPages(
      (NextToken) =>
        this.route53.send(
          new ListHostedZonesByVPCCommand({
            VPCId: vpcId,
            VPCRegion: this.vpcs.region as VPCRegion,
            MaxItems: 100,
            NextToken,
          }),
        ),
      (page) => page.NextToken,
      this.options,
    );
    for await (const page of pages) {
      for (const zone of page.HostedZoneSummaries ?? []) if (zone.Name) domains.push(dnsName(zone.Name));
    }
    return domains;
  }
}
