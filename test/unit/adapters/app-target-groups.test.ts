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
  new AppTargetGroups(new ElasticLoadBalancingV2Client({}), 'berth', { sleep: async () => undefined });

describe('AppTargetGroups', () => {
  beforeEach(() => elb.reset());

  it("names an app's target group apart from another install's app of the same tenant and name", () => {
    const names = ['berth', 'staging', 'prod'].map((installation) =>
      targetGroupName(installation, 'acme', 'web'),
    );
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^berth-[0-9a-f]{26}$/);
    // The default install's names are those it had before installs were told apart: its apps keep their groups.
    expect(names[0]).toBe('berth-86f279ce9c29f1062e23537542');
  });

  it('reads target health by ip:port, and nothing for an app without a target group', async () => {
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.0.1', Port: 8080 }, TargetHealth: { State: 'healthy' } },
      ],
    });
    expect(await targetGroups().targetHealth('acme', 'web')).toEqual(new Map([['10.0.0.1:8080', 'healthy']]));
    expect(elb).toHaveReceivedCommandWith(DescribeTargetGroupsCommand, {
      Names: [targetGroupName('berth', 'acme', 'web')],
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
