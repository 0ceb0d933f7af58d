import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { LoadBalancerZones } from '../../../functions/adapters/alb/load-balancer-zones.ts';

const elb = mockClient(ElasticLoadBalancingV2Client);
const zones = () =>
  new LoadBalancerZones(new ElasticLoadBalancingV2Client({}), { sleep: async () => undefined });
const controllers = {
  DNSName: 'k8s-berthapps-0123456789-1234567890.eu-west-1.elb.amazonaws.com',
  CanonicalHostedZoneId: 'Z32O12XQLNTSW2',
};

describe('LoadBalancerZones', () => {
  beforeEach(() => elb.reset());

  it("finds a load balancer's zone by its DNS name across pages, throttling retried, then answers from memory", async () => {
    elb
      .on(DescribeLoadBalancersCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'Throttling' }))
      .resolvesOnce({
        LoadBalancers: [{ DNSName: 'berth-1.eu-west-1.elb.amazonaws.com', CanonicalHostedZoneId: 'ZOTHER' }],
        NextMarker: 'm1',
      })
      .resolvesOnce({ LoadBalancers: [controllers] });
    const lookup = zones();
    expect(await lookup.zoneOf(controllers.DNSName.toUpperCase())).toBe('Z32O12XQLNTSW2');
    expect(elb.commandCalls(DescribeLoadBalancersCommand).map((c) => c.args[0].input)).toEqual([
      { PageSize: 400 },
      { PageSize: 400 },
      { Marker: 'm1', PageSize: 400 },
    ]);
    expect(await lookup.zoneOf(controllers.DNSName)).toBe('Z32O12XQLNTSW2');
    expect(elb).toHaveReceivedCommandTimes(DescribeLoadBalancersCommand, 3);
  });

  it('answers undefined while no load balancer has the name, and looks again next time', async () => {
    elb
      .on(DescribeLoadBalancersCommand)
      .resolvesOnce({ LoadBalancers: [] })
      .resolves({ LoadBalancers: [controllers] });
    const lookup = zones();
    expect(await lookup.zoneOf(controllers.DNSName)).toBeUndefined();
    expect(await lookup.zoneOf(controllers.DNSName)).toBe('Z32O12XQLNTSW2');
  });
});
