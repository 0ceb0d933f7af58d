import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AlbRouter, targetGroupName } from '../../../functions/adapters/alb/alb-router.ts';

const elb = mockClient(ElasticLoadBalancingV2Client);
const settings = { vpcId: 'vpc-1', listenerArn: 'arn:listener', domain: 'apps.example.com' };
const router = () =>
  new AlbRouter(new ElasticLoadBalancingV2Client({}), settings, { sleep: async () => undefined });

describe('AlbRouter', () => {
  beforeEach(() => elb.reset());

  it('creates a target group and a host rule on the first free priority, then registers the ready replicas', async () => {
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb
      .on(DescribeRulesCommand)
      .resolves({ Rules: [{ Priority: '1' }, { Priority: '2' }, { Priority: 'default' }] });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    await router().route('acme', 'web', [
      { host: '10.0.0.1', port: 8080 },
      { host: '10.0.0.2', port: 8080 },
    ]);
    const name = targetGroupName('acme', 'web');
    expect(name.length).toBeLessThanOrEqual(32);
    expect(elb).toHaveReceivedCommandWith(CreateTargetGroupCommand, {
      Name: name,
      TargetType: 'ip',
      Port: 8080,
      VpcId: 'vpc-1',
    });
    expect(elb).toHaveReceivedCommandWith(CreateRuleCommand, {
      ListenerArn: 'arn:listener',
      Priority: 3,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['web.acme.apps.example.com'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: 'arn:tg' }],
    });
    expect(elb).toHaveReceivedCommandWith(RegisterTargetsCommand, {
      TargetGroupArn: 'arn:tg',
      Targets: [
        { Id: '10.0.0.1', Port: 8080 },
        { Id: '10.0.0.2', Port: 8080 },
      ],
    });
    expect(elb).not.toHaveReceivedCommand(DeregisterTargetsCommand);
  });

  it('registers new replicas before it deregisters old ones, and leaves an existing rule alone', async () => {
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb.on(DescribeRulesCommand).resolves({
      Rules: [
        { Priority: '1', Conditions: [{ HostHeaderConfig: { Values: ['web.acme.apps.example.com'] } }] },
      ],
    });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.0.1', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: '10.0.0.9', Port: 8080 }, TargetHealth: { State: 'draining' } },
      ],
    });
    await router().route('acme', 'web', [{ host: '10.0.0.2', port: 8080 }]);
    expect(elb).not.toHaveReceivedCommand(CreateRuleCommand);
    const order = elb.calls().map((c) => c.args[0].constructor.name);
    expect(order.indexOf('RegisterTargetsCommand')).toBeLessThan(order.indexOf('DeregisterTargetsCommand'));
    expect(elb).toHaveReceivedCommandWith(DeregisterTargetsCommand, {
      Targets: [{ Id: '10.0.0.1', Port: 8080 }],
    });
  });

  it('removes the rule and the target group of a deleted app', async () => {
    elb.on(DescribeRulesCommand).resolves({
      Rules: [
        {
          RuleArn: 'arn:rule-web',
          Conditions: [{ HostHeaderConfig: { Values: ['web.acme.apps.example.com'] } }],
        },
        {
          RuleArn: 'arn:rule-api',
          Conditions: [{ HostHeaderConfig: { Values: ['api.acme.apps.example.com'] } }],
        },
      ],
    });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    await router().remove('acme', 'web');
    expect(elb).toHaveReceivedCommandTimes(DeleteRuleCommand, 1);
    expect(elb).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: 'arn:rule-web' });
    expect(elb).toHaveReceivedCommandWith(DeleteTargetGroupCommand, { TargetGroupArn: 'arn:tg' });
  });
});
