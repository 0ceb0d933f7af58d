import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AlbAppRoutes,
  APPS_PER_LOAD_BALANCER,
  loadBalancerArnOf,
} from '../../../functions/adapters/alb/alb-app-routes.ts';
import { targetGroupName } from '../../../functions/adapters/alb/app-target-groups.ts';
import { targetGroupHealthCheck } from '../../../functions/adapters/alb/target-group-settings.ts';
import { Route53AppRecords } from '../../../functions/adapters/route53/app-records.ts';
import { SHARD } from '../../support/aws-fixtures.ts';

const elb = mockClient(ElasticLoadBalancingV2Client);
const route53 = mockClient(Route53Client);
const settings = { installation: 'berth', vpcId: 'vpc-1', shards: [SHARD], domain: 'apps.example.com' };
const routes = () =>
  new AlbAppRoutes(new ElasticLoadBalancingV2Client({}), settings, { sleep: async () => undefined });
const route = { tenantId: 'acme', app: 'web', port: 8080, healthCheck: null };
const webRule = {
  RuleArn: 'arn:rule:web',
  Priority: '2',
  Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['web--acme.apps.example.com'] } }],
};

describe('AlbAppRoutes', () => {
  beforeEach(() => {
    elb.reset();
    route53.reset();
  });

  it('creates a target group and a host rule on the first free priority', async () => {
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb
      .on(DescribeRulesCommand)
      .resolves({ Rules: [{ Priority: '1' }, { Priority: '2' }, { Priority: 'default' }] });
    expect(await routes().ensure(route)).toBe('arn:tg');
    const name = targetGroupName('berth', 'acme', 'web');
    expect(name.length).toBeLessThanOrEqual(32);
    expect(elb).toHaveReceivedCommandWith(CreateTargetGroupCommand, {
      Name: name,
      TargetType: 'ip',
      Port: 8080,
      VpcId: 'vpc-1',
      // No health check named: any HTTP answer on / means the app listens, within ALB's own 5 s for an answer.
      HealthCheckPath: '/',
      Matcher: { HttpCode: '200-499' },
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
    });
    expect(elb).toHaveReceivedCommandWith(CreateRuleCommand, {
      ListenerArn: SHARD.listenerArn,
      Priority: 3,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['web--acme.apps.example.com'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: 'arn:tg' }],
    });
    // A leaving task gets 30 s to finish its requests, as long as ECS gives it to stop; not ALB's 300.
    expect(elb).toHaveReceivedCommandWith(ModifyTargetGroupAttributesCommand, {
      TargetGroupArn: 'arn:tg',
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
    });
  });

  it('gives apps that workers add at once distinct priorities, picking again after a clash', async () => {
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    // As ALB does: a priority is the listener's once taken; a second rule on it is refused.
    const rules: { Priority: string; RuleArn: string }[] = [];
    elb.on(DescribeRulesCommand).callsFake(async () => ({ Rules: [...rules] }));
    elb.on(CreateRuleCommand).callsFake(async (input: { Priority: number }) => {
      if (rules.some((r) => r.Priority === String(input.Priority))) {
        throw Object.assign(new Error('priority in use'), { name: 'PriorityInUseException' });
      }
      rules.push({ Priority: String(input.Priority), RuleArn: `arn:rule:${rules.length}` });
      return {};
    });
    const workers = Array.from({ length: 20 }, (_, i) =>
      routes().ensure({ ...route, tenantId: `tenant-${i}` }),
    );
    await Promise.all(workers);
    expect(new Set(rules.map((r) => r.Priority)).size).toBe(20);
    expect(elb.commandCalls(CreateRuleCommand).length).toBeGreaterThan(20);
  });

  it('makes no second rule when the priority it picked was taken by its own call, whose answer was lost', async () => {
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    const rules: Rule[] = [];
    elb.on(DescribeRulesCommand).callsFake(async () => ({ Rules: [...rules] }));
    // ELB made the rule, but its answer never came: the SDK sent the call again, which finds the priority taken.
    elb.on(CreateRuleCommand).callsFake(async (input: { Priority: number; Conditions: RuleCondition[] }) => {
      const taken = rules.some((r) => r.Priority === String(input.Priority));
      if (!taken) rules.push({ Priority: String(input.Priority), Conditions: input.Conditions });
      throw Object.assign(new Error('priority in use'), { name: 'PriorityInUseException' });
    });
    expect(await routes().ensure(route)).toBe('arn:tg');
    expect(rules).toEqual([
      {
        Priority: '1',
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['web--acme.apps.example.com'] } }],
      },
    ]);
  });

  it('gives up after five clashes in a row', async () => {
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb.on(DescribeRulesCommand).resolves({ Rules: [] });
    elb
      .on(CreateRuleCommand)
      .rejects(Object.assign(new Error('priority in use'), { name: 'PriorityInUseException' }));
    await expect(routes().ensure(route)).rejects.toMatchObject({ name: 'PriorityInUseException' });
    expect(elb).toHaveReceivedCommandTimes(CreateRuleCommand, 5);
  });

  it('leaves an existing rule alone and updates a changed health check in place', async () => {
    elb
      .on(CreateTargetGroupCommand)
      .rejects(Object.assign(new Error('exists'), { name: 'DuplicateTargetGroupNameException' }));
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb.on(DescribeRulesCommand).resolves({ Rules: [webRule] });
    const healthCheck = {
      path: '/ready',
      intervalSeconds: 2,
      timeoutSeconds: 2,
      healthyThreshold: 1,
      unhealthyThreshold: 20,
      gracePeriodSeconds: 0,
    };
    expect(await routes().ensure({ ...route, healthCheck })).toBe('arn:tg');
    // ALB's bounds: interval ≥ 5 s, timeout below it, thresholds 2-10.
    expect(elb).toHaveReceivedCommandWith(ModifyTargetGroupCommand, {
      TargetGroupArn: 'arn:tg',
      HealthCheckPath: '/ready',
      Matcher: { HttpCode: '200-399' },
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 2,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 10,
    });
    expect(elb).not.toHaveReceivedCommand(CreateRuleCommand);
    // A target group made before Berth set its drain time gets it too.
    expect(elb).toHaveReceivedCommandWith(ModifyTargetGroupAttributesCommand, {
      TargetGroupArn: 'arn:tg',
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
    });
    expect(targetGroupHealthCheck({ ...healthCheck, intervalSeconds: 30, timeoutSeconds: 30 })).toMatchObject(
      {
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 29,
      },
    );
  });

  it('removes the rule, then the target group, reporting false while it is still in use', async () => {
    // Another app's rule, forwarding to its own target group, stays.
    const other = {
      RuleArn: 'arn:rule:other',
      Priority: '1',
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['api--acme.apps.example.com'] } }],
      Actions: [{ Type: 'forward' as const, TargetGroupArn: 'arn:tg:api' }],
    };
    elb.on(DescribeRulesCommand).resolves({ Rules: [webRule, other] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb
      .on(DeleteTargetGroupCommand)
      .rejectsOnce(Object.assign(new Error('in use'), { name: 'ResourceInUseException' }))
      .resolves({});
    expect(await routes().remove('acme', 'web')).toBe(false);
    expect(await routes().remove('acme', 'web')).toBe(true);
    expect(elb).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: 'arn:rule:web' });
    expect(elb).not.toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: 'arn:rule:other' });
    expect(elb).toHaveReceivedCommandTimes(DeleteTargetGroupCommand, 2);
  });

  it('removes every rule of the app, should two have been made for it, so its target group can go', async () => {
    const twin = { ...webRule, RuleArn: 'arn:rule:web-twin', Priority: '7' };
    elb
      .on(DescribeRulesCommand)
      .resolves({ Rules: [webRule, { RuleArn: 'arn:rule:other', Priority: '1' }, twin] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb.on(DeleteTargetGroupCommand).resolves({});
    expect(await routes().remove('acme', 'web')).toBe(true);
    expect(elb.commandCalls(DeleteRuleCommand).map((c) => c.args[0].input.RuleArn)).toEqual([
      'arn:rule:web',
      'arn:rule:web-twin',
    ]);
  });

  it('takes a rule that is gone by the time it deletes it for deleted and goes on; any other refusal stops there', async () => {
    elb.on(DescribeRulesCommand).resolves({ Rules: [webRule] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    // ELB deleted it, but its answer never came: the SDK sent the call again, which finds no rule.
    elb
      .on(DeleteRuleCommand)
      .rejects(Object.assign(new Error('rule not found'), { name: 'RuleNotFoundException' }));
    elb.on(DeleteTargetGroupCommand).resolves({});
    expect(await routes().remove('acme', 'web')).toBe(true);
    expect(elb).toHaveReceivedCommandWith(DeleteTargetGroupCommand, { TargetGroupArn: 'arn:tg' });
    // Any other refusal stops the removal before the target group, which the rule still forwards to.
    elb.resetHistory();
    elb.on(DeleteRuleCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(routes().remove('acme', 'web')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(elb).not.toHaveReceivedCommand(DeleteTargetGroupCommand);
  });

  it('removes the rule of an app whose target group is gone already, and is done', async () => {
    elb.on(DescribeRulesCommand).resolves({ Rules: [webRule] });
    elb
      .on(DescribeTargetGroupsCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'TargetGroupNotFoundException' }));
    expect(await routes().remove('acme', 'web')).toBe(true);
    expect(elb).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: 'arn:rule:web' });
    expect(elb).not.toHaveReceivedCommand(DeleteTargetGroupCommand);
  });

  it('applies nothing for an app whose name under a longer domain is more than a load balancer routes', async () => {
    // Its name under apps.example.com has 50 + 6 + 1 + 16 = 73 characters, under a domain of 72 it has 129.
    const app = 'a'.repeat(50);
    const longer = `${'d'.repeat(60)}.example.com`;
    const underLonger = new AlbAppRoutes(new ElasticLoadBalancingV2Client({}), {
      ...settings,
      domain: longer,
    });
    await expect(underLonger.ensure({ ...route, app })).rejects.toThrow(
      `app acme/${app} would answer at ${app}--acme.${longer}: longer than a load balancer serves`,
    );
    expect(elb.calls()).toHaveLength(0);
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    elb.on(DescribeRulesCommand).resolves({ Rules: [] });
    await expect(routes().ensure({ ...route, app })).resolves.toBe('arn:tg');
  });

  it("passes on ALB's refusal of a target group, a name taken by a group it cannot find, or no group made, changing nothing", async () => {
    const nothingChanged = () => {
      expect(elb).not.toHaveReceivedCommand(ModifyTargetGroupCommand);
      expect(elb).not.toHaveReceivedCommand(ModifyTargetGroupAttributesCommand);
      expect(elb).not.toHaveReceivedCommand(CreateRuleCommand);
    };
    // Refused while the app's group is there: the refusal is not taken for the name being taken.
    elb
      .on(CreateTargetGroupCommand)
      .rejects(Object.assign(new Error('too many'), { name: 'TooManyTargetGroupsException' }));
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
    await expect(routes().ensure(route)).rejects.toMatchObject({ name: 'TooManyTargetGroupsException' });
    nothingChanged();
    // The name taken, and the group gone (deleted by another pass) by the time it looks.
    elb.reset();
    elb
      .on(CreateTargetGroupCommand)
      .rejects(Object.assign(new Error('exists'), { name: 'DuplicateTargetGroupNameException' }));
    elb
      .on(DescribeTargetGroupsCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'TargetGroupNotFoundException' }));
    await expect(routes().ensure(route)).rejects.toMatchObject({ name: 'DuplicateTargetGroupNameException' });
    nothingChanged();
    // An answer without the group it made.
    elb.reset();
    elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [] });
    await expect(routes().ensure(route)).rejects.toThrow('ALB created no target group for acme/web');
    nothingChanged();
  });

  describe('sharded over several load balancers', () => {
    const second = {
      listenerArn:
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/apps-2/7e1f2d3c4b5a6978/0a1b2c3d4e5f6a7b',
    };
    const secondDnsName = 'apps-2-1234567890.eu-west-1.elb.amazonaws.com';
    const sharded = () =>
      new AlbAppRoutes(
        new ElasticLoadBalancingV2Client({}),
        {
          ...settings,
          shards: [SHARD, second],
          dns: new Route53AppRecords(new Route53Client({}), 'ZAPPS'),
        },
        { sleep: async () => undefined },
      );
    const full = Array.from({ length: APPS_PER_LOAD_BALANCER }, (_, i) => ({ Priority: String(i + 1) }));
    /** The first load balancer full, the app's rule on the second. */
    const webOnSecond = () => {
      elb.on(DescribeRulesCommand, { ListenerArn: SHARD.listenerArn }).resolves({ Rules: full });
      elb.on(DescribeRulesCommand, { ListenerArn: second.listenerArn }).resolves({ Rules: [webRule] });
    };

    beforeEach(() => {
      elb.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
      elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: 'arn:tg' }] });
      // The install names only the listeners: where an alias points is ALB's to say.
      elb
        .on(DescribeLoadBalancersCommand, {
          LoadBalancerArns: [
            'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/apps-2/7e1f2d3c4b5a6978',
          ],
        })
        .resolves({ LoadBalancers: [{ DNSName: secondDnsName, CanonicalHostedZoneId: 'Z2' }] });
    });

    it("puts a new app on the first load balancer with room, and points the app's name at it", async () => {
      elb.on(DescribeRulesCommand, { ListenerArn: SHARD.listenerArn }).resolves({
        Rules: [...full, { Priority: 'default', IsDefault: true }],
      });
      elb.on(DescribeRulesCommand, { ListenerArn: second.listenerArn }).resolves({ Rules: [] });
      // Another worker's change to the zone is still being applied: retried.
      route53
        .on(ChangeResourceRecordSetsCommand)
        .rejectsOnce(Object.assign(new Error('prior request'), { name: 'PriorRequestNotComplete' }))
        .resolves({});
      const routes = sharded();
      await routes.ensure(route);
      expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 2);
      expect(elb).toHaveReceivedCommandTimes(CreateRuleCommand, 1);
      expect(elb).toHaveReceivedCommandWith(CreateRuleCommand, {
        ListenerArn: second.listenerArn,
        Priority: 1,
      });
      expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
        HostedZoneId: 'ZAPPS',
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 'web--acme.apps.example.com',
                Type: 'A',
                AliasTarget: { DNSName: secondDnsName, HostedZoneId: 'Z2', EvaluateTargetHealth: false },
              },
            },
          ],
        },
      });
      // Read once per load balancer, the listener's ARN cut back to its load balancer's.
      await routes.ensure(route);
      expect(elb).toHaveReceivedCommandTimes(DescribeLoadBalancersCommand, 1);
      expect(loadBalancerArnOf(second.listenerArn)).toBe(
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/apps-2/7e1f2d3c4b5a6978',
      );
    });

    it("moves an app's rule and record to its name when the install's domain changes, and removes either", async () => {
      route53.on(ChangeResourceRecordSetsCommand).resolves({});
      // Made for the app's names under two earlier domains: one below the install's domain now, one elsewhere.
      const madeFor = (...hosts: string[]) => ({
        RuleArn: 'arn:rule:web',
        Priority: '7',
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: hosts } }],
        Actions: [
          { Type: 'forward' as const, ForwardConfig: { TargetGroups: [{ TargetGroupArn: 'arn:tg' }] } },
        ],
      });
      const earlier = ['web--acme.eu.apps.example.com', 'web--acme.apps.example.net'];
      elb.on(DescribeRulesCommand, { ListenerArn: SHARD.listenerArn }).resolves({ Rules: full });
      elb
        .on(DescribeRulesCommand, { ListenerArn: second.listenerArn })
        .resolves({ Rules: [madeFor(...earlier)] });
      const records = () =>
        route53
          .commandCalls(ChangeResourceRecordSetsCommand)
          .flatMap((c) => c.args[0].input.ChangeBatch?.Changes ?? [])
          .map((change) => [change.Action, change.ResourceRecordSet?.Name]);
      await sharded().ensure(route);
      expect(elb).toHaveReceivedCommandWith(ModifyRuleCommand, {
        RuleArn: 'arn:rule:web',
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['web--acme.apps.example.com'] } }],
      });
      expect(elb).not.toHaveReceivedCommand(CreateRuleCommand);
      // The install's role writes only names under its domain: the other earlier name's record is left.
      expect(records()).toEqual([
        ['DELETE', 'web--acme.eu.apps.example.com'],
        ['UPSERT', 'web--acme.apps.example.com'],
      ]);
      // A deletion that comes before the route moved finds the rule by its target group, and frees the group.
      route53.resetHistory();
      elb.on(DeleteTargetGroupCommand).resolves({});
      expect(await sharded().remove('acme', 'web')).toBe(true);
      expect(elb).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: 'arn:rule:web' });
      expect(records()).toEqual([['DELETE', 'web--acme.eu.apps.example.com']]);
      // A rule that already routes the app's name is left as it is, and is the one its record points at, though
      // a load balancer listed before it still has a rule made for an earlier name.
      elb.resetHistory();
      route53.resetHistory();
      elb
        .on(DescribeRulesCommand, { ListenerArn: SHARD.listenerArn })
        .resolves({ Rules: [...full.slice(1), { ...madeFor(...earlier), RuleArn: 'arn:rule:web-earlier' }] });
      elb
        .on(DescribeRulesCommand, { ListenerArn: second.listenerArn })
        .resolves({ Rules: [madeFor('web--acme.apps.example.com')] });
      await sharded().ensure(route);
      expect(elb).not.toHaveReceivedCommand(ModifyRuleCommand);
      expect(elb).not.toHaveReceivedCommand(CreateRuleCommand);
      expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
        ChangeBatch: {
          Changes: [
            expect.objectContaining({
              Action: 'UPSERT',
              ResourceRecordSet: expect.objectContaining({
                AliasTarget: expect.objectContaining({ DNSName: secondDnsName }),
              }),
            }),
          ],
        },
      });
      expect(records()).toEqual([['UPSERT', 'web--acme.apps.example.com']]);
    });

    it('fails a route whose load balancer ALB does not describe, and reads it again at the next', async () => {
      webOnSecond();
      route53.on(ChangeResourceRecordSetsCommand).resolves({});
      elb
        .on(DescribeLoadBalancersCommand)
        .resolvesOnce({ LoadBalancers: [] })
        .resolves({ LoadBalancers: [{ DNSName: secondDnsName, CanonicalHostedZoneId: 'Z2' }] });
      const routes = sharded();
      await expect(routes.ensure(route)).rejects.toThrow('ALB described no load balancer');
      expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
      await routes.ensure(route);
      expect(elb).toHaveReceivedCommandTimes(DescribeLoadBalancersCommand, 2);
      expect(route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
    });

    it('says what to do when every load balancer is full', async () => {
      elb.on(DescribeRulesCommand).resolves({ Rules: full });
      await expect(sharded().ensure(route)).rejects.toThrow(
        `all 2 load balancers hold ${APPS_PER_LOAD_BALANCER} apps: raise loadBalancers`,
      );
      expect(elb).not.toHaveReceivedCommand(CreateRuleCommand);
    });

    it('removes the rule and the alias from whichever load balancer holds the app', async () => {
      webOnSecond();
      elb.on(DeleteTargetGroupCommand).resolves({});
      route53
        .on(ChangeResourceRecordSetsCommand)
        .rejects(Object.assign(new Error('not found'), { name: 'InvalidChangeBatch' }));
      // A record already gone is no failure.
      expect(await sharded().remove('acme', 'web')).toBe(true);
      expect(elb).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: webRule.RuleArn });
      expect(route53).toHaveReceivedCommandWith(ChangeResourceRecordSetsCommand, {
        ChangeBatch: {
          Changes: [
            expect.objectContaining({
              Action: 'DELETE',
              ResourceRecordSet: expect.objectContaining({
                AliasTarget: expect.objectContaining({ DNSName: secondDnsName }),
              }),
            }),
          ],
        },
      });
    });
  });
});
