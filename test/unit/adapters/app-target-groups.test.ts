import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppTargetGroups, targetGroupName } from '../../../functions/adapters/alb/app-target-groups.ts';

const elb = mockClient(ElasticLoadBalancingV2Client);
const targetGroups = () =>
  new AppTargetGroups(new ElasticLoadBalancingV2Client({}), { sleep: async () => undefined });

describe('AppTargetGroups', () => {
  beforeEach(() => elb.reset());

  it('reads target health by ip:port, and nothing for an app without a target group', async () => {
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.0.1', Port: 8080 }, TargetHealth: { State: 'healthy' } },
      ],
    });
    expect(await targetGroups().targetHealth('acme', 'web')).toEqual(new Map([['10.0.0.1:8080', 'healthy']]));
    expect(elb).toHaveReceivedCommandWith(DescribeTargetGroupsCommand, {
      Names: [targetGroupName('acme', 'web')],
    });
    expect(elb).toHaveReceivedCommandWith(DescribeTargetHealthCommand, { TargetGroupArn: 'arn:tg' });
    elb
      .on(DescribeTargetGroupsCommand)
      .rejects(Object.assign(new Error('none'), { name: 'TargetGroupNotFoundException' }));
    expect(await targetGroups().targetHealth('acme', 'gone')).toEqual(new Map());
  });

  it('retries a throttled read and passes on other errors', async () => {
    elb
      .on(DescribeTargetGroupsCommand)
      .rejectsOnce(Object.assign(new Error('slow down'), { name: 'Throttling' }))
      .resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    expect(await targetGroups().arnOf('acme', 'web')).toBe('arn:tg');
    elb.on(DescribeTargetGroupsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(targetGroups().arnOf('acme', 'web')).rejects.toThrow('denied');
  });
});
