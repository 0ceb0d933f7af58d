import { createHash } from 'node:crypto';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DEFAULT_INSTALLATION } from '../aws/installation.ts';
import { isAwsError, type RetryOptions, withThrottlingRetry } from '../aws/retry.ts';

/**
 * An app's target group name: ALB allows 32 characters, so a hash of installation, tenant and app — target group
 * names are the account's in a region, which two installs may share. The default installation's hash leaves its
 * name out, as its names were before another's took theirs in.
 */
export const targetGroupName = (installation: string, tenantId: string, app: string) => {
  const scope = installation === DEFAULT_INSTALLATION ? '' : `${installation}/`;
  return `berth-${createHash('sha256').update(`${scope}${tenantId}/${app}`).digest('hex').slice(0, 26)}`;
};

/**
 * Apps' target groups as the load balancer sees them, read only: each found by its name, and its targets' health.
 * All the API reads of the load balancers; the routes themselves are AlbAppRoutes'.
 */
export class AppTargetGroups {
  constructor(
    private readonly elb: ElasticLoadBalancingV2Client,
    private readonly installation: string,
    private readonly retry: RetryOptions = {},
  ) {}

  /** The name of the app's target group in this install (targetGroupName). */
  nameOf(tenantId: string, app: string): string {
    return targetGroupName(this.installation, tenantId, app);
  }

  /** The ARN of the app's target group; undefined while it has none. */
  async arnOf(tenantId: string, app: string): Promise<string | undefined> {
    try {
      const res = await withThrottlingRetry(
        () => this.elb.send(new DescribeTargetGroupsCommand({ Names: [this.nameOf(tenantId, app)] })),
        this.retry,
      );
      return res.TargetGroups?.[0]?.TargetGroupArn;
    } catch (err) {
      if (isAwsError(err, 'TargetGroupNotFoundException')) return undefined;
      throw err;
    }
  }

  /** The load balancer's view of an app's targets: `ip:port` → state (`healthy`, `unhealthy`, `initial`, …). */
  async targetHealth(tenantId: string, app: string): Promise<Map<string, string>> {
    const arn = await this.arnOf(tenantId, app);
    return arn ? this.healthOf(arn) : new Map();
  }

  /** The same, for a target group known by its ARN. */
  async healthOf(arn: string): Promise<Map<string, string>> {
    const health = await withThrottlingRetry(
      () => this.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
      this.retry,
    );
    return new Map(
      (health.TargetHealthDescriptions ?? []).flatMap((d) =>
        d.Target?.Id
          ? [[`${d.Target.Id}:${d.Target.Port}`, d.TargetHealth?.State ?? 'unknown'] as const]
          : [],
      ),
    );
  }
}
