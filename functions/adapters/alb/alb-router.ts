import { createHash } from 'node:crypto';
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TrafficRouter } from '../../core/ports.ts';
import { type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';

export interface AlbRouterSettings {
  vpcId: string;
  /** The shared HTTPS listener apps' host rules go on. */
  listenerArn: string;
  /** Apps answer at `<app>.<tenant>.<domain>`. */
  domain: string;
}

type Endpoint = { host: string; port: number };

/** An app's target group name: ALB allows 32 characters, so a hash of tenant and app. */
export const targetGroupName = (tenantId: string, app: string) =>
  `berth-${createHash('sha256').update(`${tenantId}/${app}`).digest('hex').slice(0, 26)}`;

/** Rule priorities are unique per listener; the first free one from 1 is taken. */
function freePriority(rules: Rule[]): number {
  const taken = new Set(rules.map((r) => Number(r.Priority)).filter(Number.isFinite));
  let priority = 1;
  while (taken.has(priority)) priority += 1;
  return priority;
}

/**
 * The TrafficRouter on the shared ALB: an IP target group and a host-header rule per app, created on first use;
 * routing registers the ready replicas' IPs and deregisters the rest, so traffic follows the reconciler.
 */
export class AlbRouter implements TrafficRouter {
  private readonly targetGroups = new Map<string, string>();

  constructor(
    private readonly elb: ElasticLoadBalancingV2Client,
    private readonly settings: AlbRouterSettings,
    private readonly retry: RetryOptions = {},
  ) {}

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withThrottlingRetry(fn, this.retry);
  }

  private hostOf(tenantId: string, app: string) {
    return `${app}.${tenantId}.${this.settings.domain}`;
  }

  private async rules(): Promise<Rule[]> {
    const rules: Rule[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call(() =>
        this.elb.send(
          new DescribeRulesCommand({ ListenerArn: this.settings.listenerArn, Marker: marker, PageSize: 400 }),
        ),
      );
      rules.push(...(page.Rules ?? []));
      marker = page.NextMarker;
    } while (marker);
    return rules;
  }

  /** The app's target group, created (idempotently: same name, same settings) with its host rule. */
  private async targetGroup(tenantId: string, app: string, port: number): Promise<string> {
    const key = `${tenantId}/${app}`;
    const known = this.targetGroups.get(key);
    if (known) return known;
    const created = await this.call(() =>
      this.elb.send(
        new CreateTargetGroupCommand({
          Name: targetGroupName(tenantId, app),
          TargetType: 'ip',
          Protocol: 'HTTP',
          Port: port,
          VpcId: this.settings.vpcId,
          HealthCheckPath: '/',
          Matcher: { HttpCode: '200-499' },
          HealthCheckIntervalSeconds: 10,
          HealthyThresholdCount: 2,
          Tags: [
            { Key: 'berth:tenant', Value: tenantId },
            { Key: 'berth:app', Value: app },
          ],
        }),
      ),
    );
    const arn = created.TargetGroups?.[0]?.TargetGroupArn;
    if (!arn) throw new Error(`ALB created no target group for ${key}`);
    const host = this.hostOf(tenantId, app);
    const rules = await this.rules();
    const exists = rules.some((r) => r.Conditions?.some((c) => c.HostHeaderConfig?.Values?.includes(host)));
    if (!exists) {
      await this.call(() =>
        this.elb.send(
          new CreateRuleCommand({
            ListenerArn: this.settings.listenerArn,
            Priority: freePriority(rules),
            Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }],
            Actions: [{ Type: 'forward', TargetGroupArn: arn }],
            Tags: [{ Key: 'berth:tenant', Value: tenantId }],
          }),
        ),
      );
    }
    this.targetGroups.set(key, arn);
    return arn;
  }

  async route(tenantId: string, app: string, endpoints: Endpoint[]): Promise<void> {
    const port = endpoints[0]?.port;
    const arn = port
      ? await this.targetGroup(tenantId, app, port)
      : await this.existingTargetGroup(tenantId, app);
    if (!arn) return;
    const health = await this.call(() =>
      this.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
    );
    const current = (health.TargetHealthDescriptions ?? []).flatMap((d) =>
      d.Target?.Id && d.TargetHealth?.State !== 'draining' ? [{ Id: d.Target.Id, Port: d.Target.Port }] : [],
    );
    const wanted = endpoints.map((e) => ({ Id: e.host, Port: e.port }));
    const key = (t: { Id: string; Port?: number | undefined }) => `${t.Id}:${t.Port}`;
    const add = wanted.filter((t) => !current.some((c) => key(c) === key(t)));
    const drop = current.filter((c) => !wanted.some((t) => key(t) === key(c)));
    // New replicas first, then the old ones go: traffic never has nowhere to go during a deploy.
    if (add.length)
      await this.call(() => this.elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: add })));
    if (drop.length) {
      await this.call(() =>
        this.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: drop })),
      );
    }
  }

  private async existingTargetGroup(tenantId: string, app: string): Promise<string | undefined> {
    const known = this.targetGroups.get(`${tenantId}/${app}`);
    if (known) return known;
    try {
      const res = await this.call(() =>
        this.elb.send(new DescribeTargetGroupsCommand({ Names: [targetGroupName(tenantId, app)] })),
      );
      return res.TargetGroups?.[0]?.TargetGroupArn;
    } catch (err) {
      if ((err as { name?: string }).name === 'TargetGroupNotFoundException') return undefined;
      throw err;
    }
  }

  /** The load balancer's view of an app's targets: `ip:port` → state (`healthy`, `unhealthy`, `initial`, …). */
  async targetHealth(tenantId: string, app: string): Promise<Map<string, string>> {
    const arn = await this.existingTargetGroup(tenantId, app);
    if (!arn) return new Map();
    const health = await this.call(() =>
      this.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
    );
    return new Map(
      (health.TargetHealthDescriptions ?? []).flatMap((d) =>
        d.Target?.Id
          ? [[`${d.Target.Id}:${d.Target.Port}`, d.TargetHealth?.State ?? 'unknown'] as const]
          : [],
      ),
    );
  }

  async remove(tenantId: string, app: string): Promise<void> {
    const host = this.hostOf(tenantId, app);
    for (const rule of await this.rules()) {
      if (rule.RuleArn && rule.Conditions?.some((c) => c.HostHeaderConfig?.Values?.includes(host))) {
        await this.call(() => this.elb.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn })));
      }
    }
    const arn = await this.existingTargetGroup(tenantId, app);
    if (arn) await this.call(() => this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })));
    this.targetGroups.delete(`${tenantId}/${app}`);
  }
}
