import { ListHostedZonesByVPCCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, describe, expect, it } from 'vitest';
import { VpcPrivateDomains, ZONES_KEPT_MS } from '../../../functions/adapters/route53/vpc-private-domains.ts';
import { UnavailableError } from '../../../functions/core/errors.ts';

const route53 = mockClient(Route53Client);
const VPC = { ids: ['vpc-0abc'], region: 'eu-west-1' };
const zone = (Name: string, owner: Record<string, string> = { OwningAccount: '123456789012' }) => ({
  HostedZoneId: `Z${Name.length}`,
  Name,
  Owner: owner,
});

/** The domains of the VPC's zones, at a clock the test moves. */
function domains(now = { ms: 0 }, vpcs = VPC) {
  return new VpcPrivateDomains(new Route53Client({ region: 'eu-west-1' }), vpcs, {
    sleep: async () => {},
    now: () => now.ms,
  });
}

describe("the apps' VPC's private domains", () => {
  afterEach(() => route53.reset());

  it('reads every page of the zones associated with the VPC, whoever owns them', async () => {
    route53
      .on(ListHostedZonesByVPCCommand)
      .resolvesOnce({ HostedZoneSummaries: [zone('corp.example.com.')], MaxItems: 100, NextToken: 'p2' })
      .resolvesOnce({
        HostedZoneSummaries: [zone('Internal.Example.NET.', { OwningService: 'efs.amazonaws.com' })],
        MaxItems: 100,
      });
    const vpc = domains();
    expect(await vpc.privateDomainOf('registry.corp.example.com')).toBe('corp.example.com');
    expect(await vpc.privateDomainOf('CORP.example.com.')).toBe('corp.example.com');
    expect(await vpc.privateDomainOf('fs-1.internal.example.net')).toBe('internal.example.net');
    // A name that merely ends alike is another domain.
    expect(await vpc.privateDomainOf('notcorp.example.com')).toBeUndefined();
    expect(await vpc.privateDomainOf('ghcr.io')).toBeUndefined();
    expect(route53).toHaveReceivedCommandTimes(ListHostedZonesByVPCCommand, 2);
    expect(route53).toHaveReceivedNthCommandWith(ListHostedZonesByVPCCommand, 1, {
      VPCId: 'vpc-0abc',
      VPCRegion: 'eu-west-1',
      MaxItems: 100,
      NextToken: undefined,
    });
    expect(route53).toHaveReceivedNthCommandWith(ListHostedZonesByVPCCommand, 2, { NextToken: 'p2' });
  });

  it("reads the zones of each VPC apps run in: Fargate's, and an EKS cluster's of its own", async () => {
    route53
      .on(ListHostedZonesByVPCCommand, { VPCId: 'vpc-0abc' })
      .resolves({ HostedZoneSummaries: [zone('fargate.example.com.')], MaxItems: 100 })
      .on(ListHostedZonesByVPCCommand, { VPCId: 'vpc-0eks' })
      .resolves({ HostedZoneSummaries: [zone('corp.example.com.')], MaxItems: 100 });
    const vpc = domains({ ms: 0 }, { ids: ['vpc-0abc', 'vpc-0eks'], region: 'eu-west-1' });
    expect(await vpc.privateDomainOf('r.fargate.example.com')).toBe('fargate.example.com');
    expect(await vpc.privateDomainOf('r.corp.example.com')).toBe('corp.example.com');
    expect(route53).toHaveReceivedCommandTimes(ListHostedZonesByVPCCommand, 2);
  });

  it('keeps the zones for a while, then reads them again: a zone associated since counts', async () => {
    route53
      .on(ListHostedZonesByVPCCommand)
      .resolvesOnce({ HostedZoneSummaries: [], MaxItems: 100 })
      .resolves({ HostedZoneSummaries: [zone('corp.example.com.')], MaxItems: 100 });
    const now = { ms: 0 };
    const vpc = domains(now);
    expect(await vpc.privateDomainOf('registry.corp.example.com')).toBeUndefined();
    now.ms = ZONES_KEPT_MS - 1;
    expect(await vpc.privateDomainOf('registry.corp.example.com')).toBeUndefined();
    expect(route53).toHaveReceivedCommandTimes(ListHostedZonesByVPCCommand, 1);
    now.ms = ZONES_KEPT_MS;
    expect(await vpc.privateDomainOf('registry.corp.example.com')).toBe('corp.example.com');
    expect(route53).toHaveReceivedCommandTimes(ListHostedZonesByVPCCommand, 2);
  });

  it('retries throttling, answers 503 when it lasts, and keeps no failed read', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    route53
      .on(ListHostedZonesByVPCCommand)
      .rejectsOnce(throttled)
      .resolvesOnce({ HostedZoneSummaries: [zone('corp.example.com.')], MaxItems: 100 });
    expect(await domains().privateDomainOf('a.corp.example.com')).toBe('corp.example.com');

    route53.reset();
    route53.on(ListHostedZonesByVPCCommand).rejects(throttled);
    const vpc = domains();
    await expect(vpc.privateDomainOf('a.corp.example.com')).rejects.toBeInstanceOf(UnavailableError);
    route53.reset();
    route53
      .on(ListHostedZonesByVPCCommand)
      .resolves({ HostedZoneSummaries: [zone('corp.example.com.')], MaxItems: 100 });
    expect(await vpc.privateDomainOf('a.corp.example.com')).toBe('corp.example.com');
  });
});
