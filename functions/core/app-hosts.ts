import { ValidationError } from './errors.ts';
import type { CoreDeps } from './ports.ts';

/**
 * The DNS name an app answers at in AWS mode (every runtime): `<app>--<tenant>.<domain>`. One label under the
 * domain, so one wildcard certificate (`*.<domain>`) covers every tenant's apps, as on Cloud Run or Fly.io. Tenant
 * ids never contain `--`, so the last `--` tells app from tenant and no two apps share a name.
 */
export const appHostname = (tenantId: string, app: string, domain: string) => `${app}--${tenantId}.${domain}`;

/** The DNS name an app answers at locally: `<app>.<tenant>.localhost`, which every system resolves to loopback. */
export const localAppHostname = (tenantId: string, app: string) => `${app}.${tenantId}.localhost`;

/** The longest DNS label. */
const MAX_LABEL = 63;
/** The longest host an ALB listener rule matches (and far below DNS's 253), so an app's name serves in any mode. */
export const MAX_HOST = 128;

/** What keeps a hostname from being served: too long for a load balancer, or a label browsers read as IDN. */
export function hostProblem(host: string): string | undefined {
  const labels = host.split('.');
  if (host.length > MAX_HOST || labels.some((label) => label.length > MAX_LABEL)) {
    return `longer than a load balancer serves (labels of at most ${MAX_LABEL} characters, ${MAX_HOST} in all)`;
  }
  // Browsers decode a label that starts "xn--" as an internationalized name, and refuse one that decodes to none.
  if (labels.some((label) => label.startsWith('xn--'))) {
    return 'a label that starts "xn--", which browsers read as an internationalized name';
  }
  return undefined;
}

/**
 * The app's name under `domain`, as its load balancer routes it; throws for one it cannot route, as an app named under
 * a shorter domain may have under the install's domain now: nothing is applied for it.
 */
export function routableHostname(tenantId: string, app: string, domain: string): string {
  const host = appHostname(tenantId, app, domain);
  const problem = hostProblem(host);
  if (problem) {
    throw new Error(
      `app ${tenantId}/${app} would answer at ${host}: ${problem}; delete it, or give the install a shorter domain`,
    );
  }
  return host;
}

/** Refuses (400) an app name whose hostname under this install would not be a name its load balancer can serve. */
export function assertServableHost(deps: Pick<CoreDeps, 'appUrl'>, tenantId: string, app: string): void {
  const host = new URL(deps.appUrl(tenantId, app)).hostname;
  const problem = hostProblem(host);
  if (!problem) return;
  const message = `app "${app}" would answer at ${host}: ${problem}; choose another name`;
  throw new ValidationError(message, [{ path: 'name', message }]);
}
