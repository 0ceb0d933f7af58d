import { createHash } from 'node:crypto';
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  type ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { HealthCheck } from '../../../schemas/app.ts';
import { appHostname, routableHostname } from '../../core/app-hosts.ts';
import { allPages } from '../aws/pages.ts';
import { isAwsError, type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';
import type { AliasTarget, Route53AppRecords } from '../route53/app-records.ts';
import { AppTargetGroups } from './app-target-groups.ts';
import { TARGET_DRAIN_SECONDS, targetGroupHealthCheck } from './target-group-settings.ts';

/** One of the install's shared load balancers: its HTTPS listener. */
export interface LoadBalancerShard {
  listenerArn: string;
}

/** A listener's load balancer's ARN: `…:listener/app/<name>/<id>/<listener id>` → `…:loadbalancer/app/<name>/<id>`. */
export const loadBalancerArnOf = (listenerArn: string) =>
  listenerArn.replace(':listener/', ':loadbalancer/').replace(/\/[^/]+$/, '');

export interface AlbAppRoutesSettings {
  /** The install's name, which its target groups' names are scoped by (targetGroupName). */
  installation: string;
  vpcId: string;
  /** The shared load balancers, filled in order: an app's host rule goes on the first with room. */
  shards: LoadBalancerShard[];
  /** Apps answer at `<app>--<tenant>.<domain>`. */
  domain: string;
  /** Where each app's alias record is kept (required with more than one shard; a wildcard record serves one). */
  dns?: Pick<Route53AppRecords, 'point' | 'remove' | 'hostedZoneId'>;
}

/**
 * Apps per load balancer: an ALB takes 100 target groups and 100 rules (quotas); the rest is headroom for the
 * operator's own rules and for apps being replaced.
 */
export const APPS_PER_LOAD_BALANCER = 90;

type ShardRules = { shard: LoadBalancerShard; rules: Rule[] };

/** The hosts a rule routes. */
const hostsOf = (rule: Rule) => rule.Conditions?.flatMap((c) => c.HostHeaderConfig?.Values ?? []) ?? [];

/** Whether a rule routes `host`. */
const routes = (rule: Rule, host: string) => hostsOf(rule).includes(host);

/** Whether a rule forwards to the target group. */
const forwardsTo = (rule: Rule, targetGroupArn: string) =>
  rule.Actions?.some(
    (a) =>
      a.TargetGroupArn === targetGroupArn ||
      a.ForwardConfig?.TargetGroups?.some((t) => t.TargetGroupArn === targetGroupArn),
  ) ?? false;

/** Tries at adding an app's rule while other workers take the priority it picked. */
const PRIORITY_ATTEMPTS = 5;
/** How many of the lowest free priorities a rule picks from after a clash: about as many as workers run at once. */
const PRIORITY_SPREAD = 20;

/**
 * A free rule priority (they are unique per listener): the lowest, or after a clash — another worker took it
 * meanwhile — one of the lowest few at random, so workers that clashed do not clash again.
 */
function freePriority(rules: Rule[], clashed: boolean): number {
  const taken = new Set(rules.map((r) => Number(r.Priority)).filter(Number.isFinite));
  const free: number[] = [];
  for (let priority = 1; free.length < (clashed ? PRIORITY_SPREAD : 1); priority++) {
    if (!taken.has(priority)) free.push(priority);
  }
  return free[Math.floor(Math.random() * free.length)] ?? 1;
}

/**
 * Apps' routes on the shared ALBs: an IP target group and a host-header rule per app, on the first load balancer
 * with room (at most APPS_PER_LOAD_BALANCER each), and the app's DNS alias to it. ECS registers and drains the
 * service's tasks in the target group itself; Berth only creates, updates and removes the route.
 */
export class AlbAppRoutes {
  /** The apps' target groups, by name and with their targets' health. */
  readonly targetGroups: AppTargetGroups;
  /** Each load balancer's alias target, by ARN, once read. */
  private readonly aliasTargets = new Map<string, Promise<AliasTarget>>();
  /** The load balancers, as routeOf notes them. */
  private readonly shardsKey: string;

  constructor(
    private readonly elb: ElasticLoadBalancingV2Client,
    private readonly settings: AlbAppRoutesSettings,
    private readonly retry: RetryOptions = {},
  ) {
    this.targetGroups = new AppTargetGroups(elb, settings.installation, retry);
    const listeners = settings.shards.map((shard) => shard.listenerArn).join(' ');
    this.shardsKey = createHash('sha256').update(listeners).digest('hex').slice(0, 12);
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withThrottlingRetry(fn, this.retry);
  }

  private async rules(listenerArn: string): Promise<Rule[]> {
    const rules: Rule[] = [];
    const pages = allPages(
      (Marker) =>
        this.elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker, PageSize: 400 })),
      (page) => page.NextMarker,
      this.retry,
    );
    for await (const page of pages) rules.push(...(page.Rules ?? []));
    return rules;
  }

  /** The name the app answers at: `<app>--<tenant>.<domain>`, in the install's domain. */
  private hostOf(tenantId: string, app: string): string {
    return appHostname(tenantId, app, this.settings.domain);
  }

  /**
   * What the app's route is made for: its name, the zone its record is kept in, and the load balancers (a hash of
   * their listeners). A service whose route was made for others is applied again, which moves the route (ensure): the
   * install's `domain` or `hostedZone` changed, or a load balancer went (`loadBalancers` lowered, or one replaced),
   * taking its rules with it.
   */
  routeOf(tenantId: string, app: string): string {
    const zone = this.settings.dns?.hostedZoneId ?? '-';
    return `${this.hostOf(tenantId, app)} ${zone} ${this.shardsKey}`;
  }

  /**
   * Every shard's rules, and the app's, each with its shard: those that route `host` first, then those that forward to
   * the app's target group, made for its name under the install's earlier domain.
   */
  private async find(
    host: string,
    targetGroupArn: string | undefined,
  ): Promise<{ all: ShardRules[]; ofApp: { shard: LoadBalancerShard; rule: Rule }[] }> {
    const all = await Promise.all(
      this.settings.shards.map(async (shard) => ({ shard, rules: await this.rules(shard.listenerArn) })),
    );
    const ofApp = all
      .flatMap(({ shard, rules }) =>
        rules
          .filter((r) => routes(r, host) || (targetGroupArn !== undefined && forwardsTo(r, targetGroupArn)))
          .map((rule) => ({ shard, rule })),
      )
      .sort((a, b) => Number(routes(b.rule, host)) - Number(routes(a.rule, host)));
    return { all, ofApp };
  }

  /**
   * The app's target group with the app's health check and drain time, its host rule and DNS alias: created on first
   * use (the rule on the first load balancer with room), the health check updated when it changed. Returns the target
   * group's ARN.
   */
  async ensure(route: {
    tenantId: string;
    app: string;
    port: number;
    healthCheck: HealthCheck | null;
  }): Promise<string> {
    const { tenantId, app } = route;
    const host = routableHostname(tenantId, app, this.settings.domain);
    const health = targetGroupHealthCheck(route.healthCheck);
    const arn = await this.createTargetGroup(route, health).catch(async (err: unknown) => {
      // Same name, other settings: the app's health check changed.
      if (!isAwsError(err, 'DuplicateTargetGroupNameException')) throw err;
      const existing = await this.targetGroups.arnOf(tenantId, app);
      if (!existing) throw err;
      await this.call(() =>
        this.elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: existing, ...health })),
      );
      return existing;
    });
    // Set whenever the route is ensured, so target groups made before it was set get it too.
    await this.call(() =>
      this.elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(TARGET_DRAIN_SECONDS) }],
        }),
      ),
    );
    const { all, ofApp } = await this.find(host, arn);
    const [found] = ofApp;
    let shard = found?.shard;
    if (found) await this.rename(found, host);
    if (!shard) {
      const room = all.find(({ rules }) => rules.filter((r) => !r.IsDefault).length < APPS_PER_LOAD_BALANCER);
      if (!room) {
        throw new Error(
          `all ${all.length} load balancers hold ${APPS_PER_LOAD_BALANCER} apps: raise loadBalancers in the install's configuration`,
        );
      }
      shard = room.shard;
      await this.addRule(room, { host, targetGroupArn: arn, tenantId });
    }
    if (this.settings.dns) await this.settings.dns.point(host, await this.aliasTargetOf(shard));
    return arn;
  }

  /**
   * Gives the app's rule its name where it routes another, the name under the install's earlier domain (whose
   * certificate the listener no longer has), and removes that name's record where the install may: its role writes
   * only names under its domain.
   */
  private async rename(
    { shard, rule }: { shard: LoadBalancerShard; rule: Rule },
    host: string,
  ): Promise<void> {
    const earlier = hostsOf(rule).filter((name) => name !== host);
    if (earlier.length === 0) return;
    await this.call(() =>
      this.elb.send(
        new ModifyRuleCommand({
          RuleArn: rule.RuleArn,
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }],
        }),
      ),
    );
    await this.removeRecords(shard, earlier);
  }

  /** Removes the records of `hosts` to the shard's load balancer, those under the install's domain. */
  private async removeRecords(shard: LoadBalancerShard, hosts: string[]): Promise<void> {
    const { dns, domain } = this.settings;
    if (!dns) return;
    for (const host of hosts.filter((name) => name.endsWith(`.${domain}`))) {
      await dns.remove(host, await this.aliasTargetOf(shard));
    }
  }

  /**
   * Where an alias to the shard's load balancer points, its DNS name and canonical zone, read once: the install names
   * only the listeners, as 20 load balancers' DNS names and zones would pass the 4 KB a Lambda's environment holds.
   */
  private aliasTargetOf(shard: LoadBalancerShard): Promise<AliasTarget> {
    const arn = loadBalancerArnOf(shard.listenerArn);
    const known = this.aliasTargets.get(arn);
    if (known) return known;
    const read = this.call(() =>
      this.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] })),
    ).then(({ LoadBalancers }) => {
      const lb = LoadBalancers?.[0];
      if (!lb?.DNSName || !lb.CanonicalHostedZoneId) throw new Error(`ALB described no load balancer ${arn}`);
      return { dnsName: lb.DNSName, zoneId: lb.CanonicalHostedZoneId };
    });
    // A failed read is read again next time.
    read.catch(() => this.aliasTargets.delete(arn));
    this.aliasTargets.set(arn, read);
    return read;
  }

  /** Adds a host rule on the shard, on another priority while other workers take the ones it picks. */
  private async addRule(
    { shard, rules }: ShardRules,
    rule: { host: string; targetGroupArn: string; tenantId: string },
  ): Promise<void> {
    for (let attempt = 1, seen = rules; ; attempt++) {
      try {
        await this.call(() =>
          this.elb.send(
            new CreateRuleCommand({
              ListenerArn: shard.listenerArn,
              Priority: freePriority(seen, attempt > 1),
              Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [rule.host] } }],
              Actions: [{ Type: 'forward', TargetGroupArn: rule.targetGroupArn }],
              Tags: [{ Key: 'berth:tenant', Value: rule.tenantId }],
            }),
          ),
        );
        return;
      } catch (err) {
        if (!isAwsError(err, 'PriorityInUseException') || attempt >= PRIORITY_ATTEMPTS) throw err;
        seen = await this.rules(shard.listenerArn);
        // The priority may be this rule's own: a call ELB carried out whose answer was lost, which the SDK sent
        // again. A second rule for the host would only be one more to remove.
        if (seen.some((r) => routes(r, rule.host))) return;
      }
    }
  }

  private async createTargetGroup(
    route: { tenantId: string; app: string; port: number },
    health: ReturnType<typeof targetGroupHealthCheck>,
  ): Promise<string> {
    // Idempotent: the same name with the same settings returns the existing group.
    const created = await this.call(() =>
      this.elb.send(
        new CreateTargetGroupCommand({
          Name: this.targetGroups.nameOf(route.tenantId, route.app),
          TargetType: 'ip',
          Protocol: 'HTTP',
          Port: route.port,
          VpcId: this.settings.vpcId,
          ...health,
          Tags: [
            { Key: 'berth:tenant', Value: route.tenantId },
            { Key: 'berth:app', Value: route.app },
          ],
        }),
      ),
    );
    const arn = created.TargetGroups?.[0]?.TargetGroupArn;
    if (!arn) throw new Error(`ALB created no target group for ${route.tenantId}/${route.app}`);
    return arn;
  }

  /**
   * Removes the app's DNS aliases and rules (made for its name now or under the install's earlier domain), then its
   * target group; false while ECS still holds the group.
   */
  async remove(tenantId: string, app: string): Promise<boolean> {
    const arn = await this.targetGroups.arnOf(tenantId, app);
    const { ofApp } = await this.find(this.hostOf(tenantId, app), arn);
    // Every rule of the app: one left (a second made while a read of the rules lagged) would hold the target group.
    for (const { shard, rule } of ofApp) {
      await this.removeRecords(shard, hostsOf(rule));
      try {
        await this.call(() => this.elb.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn })));
      } catch (err) {
        // Gone already: deleted by a try whose answer was lost (the SDK sent it again), or by another pass.
        if (!isAwsError(err, 'RuleNotFoundException')) throw err;
      }
    }
    if (!arn) return true;
    try {
      await this.call(() => this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })));
      return true;
    } catch (err) {
      if (isAwsError(err, 'ResourceInUseException')) return false;
      throw err;
    }
  }
}
