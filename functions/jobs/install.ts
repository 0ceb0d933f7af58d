import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { appHostname, hostProblem, MAX_HOST } from '../core/app-hosts.ts';
import { mapWithLimit } from '../core/map-with-limit.ts';
import { seedPlans } from '../core/plans.ts';
import type { CoreDeps } from '../core/ports.ts';
import { allApps, listEveryTenant } from '../core/walk.ts';

/** One resource for the life of the stack: an update never makes CloudFormation replace (and delete) it. */
export const INSTALL_RESOURCE_ID = 'berth-install';
/** A creation that failed: the rollback's deletion of it, which CloudFormation sends next, has nothing to check. */
export const NOT_INSTALLED_ID = 'berth-install-not-created';

/** What CloudFormation is told of a custom resource's event, and where: its pre-signed S3 URL. */
export interface CloudFormationAnswer {
  url: URL;
  body: {
    Status: 'SUCCESS' | 'FAILED';
    Reason?: string;
    PhysicalResourceId: string;
    StackId: string;
    RequestId: string;
    LogicalResourceId: string;
  };
}

/** Tenants whose apps are read at once. */
const TENANTS_IN_FLIGHT = 8;
/** Apps a refusal names; the rest are counted. */
const APPS_NAMED = 5;

/**
 * The install's custom resource: when the stack is created, the plans every installation starts with (API.md:
 * `free` and `pro`, as local mode seeds them), unless they exist. Updates and deletion leave plans alone: from
 * then on they are the platform team's, and the table outlives this stack. A creation or update that would leave
 * apps behind is refused (assertAppsKept), and so is the stack's deletion while any app remains (assertNoApps). A
 * failure is answered, not thrown, so CloudFormation rolls back at once instead of waiting an hour for an answer.
 */
export async function installEvent(
  deps: Pick<CoreDeps, 'store' | 'clock'>,
  event: CloudFormationCustomResourceEvent,
  log: { error(message: string, details: Record<string, unknown>): void },
): Promise<CloudFormationAnswer> {
  const url = cloudFormationUrl(event.ResponseURL);
  const answer = {
    PhysicalResourceId: event.RequestType === 'Create' ? INSTALL_RESOURCE_ID : event.PhysicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  try {
    if (event.RequestType !== 'Delete') await assertAppsKept(deps, event);
    else if (event.PhysicalResourceId === INSTALL_RESOURCE_ID) await assertNoApps(deps);
    if (event.RequestType === 'Create') await seedPlans(deps);
    return { url, body: { Status: 'SUCCESS', ...answer } };
  } catch (err) {
    log.error('install failed', { error: err, requestType: event.RequestType });
    const reason = err instanceof Error ? err.message : String(err);
    return {
      url,
      body: {
        Status: 'FAILED',
        Reason: `Berth's install failed: ${reason}`.slice(0, 1000),
        ...answer,
        ...(event.RequestType === 'Create' ? { PhysicalResourceId: NOT_INSTALLED_ID } : {}),
      },
    };
  }
}

/** An app as the checks read it. */
interface HeldApp {
  tenantId: string;
  app: string;
  runtime: string;
}

/** Every app in the table (deleted ones until their workloads are gone), read TENANTS_IN_FLIGHT tenants at a time. */
async function everyApp(store: CoreDeps['store']): Promise<HeldApp[]> {
  const perTenant = await mapWithLimit(await listEveryTenant(store), TENANTS_IN_FLIGHT, async (tenant) => {
    const apps: HeldApp[] = [];
    for await (const app of allApps(store, tenant.id))
      apps.push({ tenantId: tenant.id, app: app.name, runtime: app.spec.runtime });
    return apps;
  });
  return perTenant.flat();
}

/** Some apps, named: at most APPS_NAMED, then how many more. */
function listed(apps: HeldApp[]): string {
  const names = apps.slice(0, APPS_NAMED).map((app) => `${app.tenantId}/${app.app} (${app.runtime})`);
  if (apps.length > APPS_NAMED) names.push(`${apps.length - APPS_NAMED} more`);
  return names.join(', ');
}

/** "an app runs" or "<n> apps run". */
const run = (apps: HeldApp[]) => (apps.length === 1 ? 'an app runs' : `${apps.length} apps run`);

/**
 * Refuses a deployment that would leave apps behind: one whose `runtimes` (the resource's `Runtimes`) leave out a
 * runtime apps run on — nothing would reconcile, meter or delete their workloads any more, and an EKS cluster the
 * install made would be deleted with their pods —, that gives EKS apps another cluster (`EksCluster`: another
 * existing one, or the install's own made anew), leaving their pods running, unmetered, where they are, or whose
 * `domain` (`Domain`) would give apps names a load balancer cannot route (routableHostname). CloudFormation then rolls
 * the deployment back before it deletes anything. The table may hold the apps of an earlier platform stack: a new one
 * is held to them too.
 */
async function assertAppsKept(deps: Pick<CoreDeps, 'store'>, event: CloudFormationCustomResourceEvent) {
  const { Runtimes: offered, EksCluster: cluster, Domain: domain } = event.ResourceProperties;
  if (!Array.isArray(offered)) return;
  const apps = await everyApp(deps.store);
  const unroutable =
    typeof domain === 'string'
      ? apps.filter((app) => hostProblem(appHostname(app.tenantId, app.app, domain)))
      : [];
  if (unroutable.length > 0) {
    throw new Error(
      `under domain ${domain}, ${unroutable.length === 1 ? 'an app' : `${unroutable.length} apps`} would have a ` +
        `name longer than a load balancer routes (${MAX_HOST} characters): ${listed(unroutable)}. Choose a shorter ` +
        'domain, or delete those apps',
    );
  }
  const left = apps.filter((app) => !offered.includes(app.runtime));
  if (left.length > 0) {
    const runtimes = [...new Set(left.map((app) => app.runtime))].join(' and ');
    throw new Error(
      `runtimes leaves out ${runtimes}, where ${run(left)} (${listed(left)}): delete them and wait until they are ` +
        `gone, or keep ${runtimes} in runtimes`,
    );
  }
  const before = event.RequestType === 'Update' ? event.OldResourceProperties.EksCluster : undefined;
  const onEks = apps.filter((app) => app.runtime === 'eks');
  if (before && cluster !== before && onEks.length > 0) {
    throw new Error(
      `the EKS cluster changes from ${before} to ${cluster}, while on ${before} ${run(onEks)} (${listed(onEks)}): ` +
        'their pods would be left running there, unmetered. Delete them and wait until they are gone, or keep the ' +
        'cluster',
    );
  }
}

/**
 * Refuses the stack's deletion while any app remains (deleted ones until their workloads are gone): Berth makes their
 * ECS services, target groups, rules, records and pods itself, outside CloudFormation, so the deletion would fail
 * part way (the cluster, the subnets and the apps' security group still in use) after deleting the API, the jobs and
 * the load balancers, and leave the apps' tasks running, unmetered and unreachable, with nothing to delete them. The
 * resource is deleted before anything else in the stack (platform-stack.ts), so a deletion it refuses deletes nothing.
 */
async function assertNoApps(deps: Pick<CoreDeps, 'store'>) {
  const apps = await everyApp(deps.store);
  if (apps.length > 0) {
    throw new Error(
      `the stack cannot be deleted while ${run(apps)} (${listed(apps)}): their workloads would be left running, ` +
        'unmetered, with nothing to delete them. Delete them and wait until they are gone, then delete the stack ' +
        'again',
    );
  }
}

/** CloudFormation answers only at its own pre-signed HTTPS URLs on amazonaws.com: nothing else is ever called. */
function cloudFormationUrl(text: string): URL {
  const url = new URL(text);
  if (url.protocol !== 'https:' || !/\.amazonaws\.com(\.cn)?$/.test(url.hostname)) {
    throw new Error(`not a CloudFormation response URL: ${url.protocol}//${url.hostname}`);
  }
  return url;
}
