import { createHash } from 'node:crypto';
import { DEFAULT_INSTALLATION } from '../aws/installation.ts';

/** The longest name a namespace may have (a DNS label). */
const MAX_NAMESPACE = 63;
/** The hex digits of the hash that ends a namespace name too long for a tenant's whole id. */
const HASH_DIGITS = 10;

/**
 * What an install owns in a Kubernetes cluster. Two installs may run apps on one cluster (an operator's, named by
 * `eks.existingCluster`): each keeps its tenants' namespaces under its own prefix, and its Lambdas' group and
 * cluster-wide RBAC carry its name, so neither lists, changes nor deletes what the other made, and one uninstalled
 * leaves the other's permissions in place. The default install keeps the names Berth has always used.
 */
export interface ClusterScope {
  /** How each of the install's tenant namespaces begins: `berth-`, or `berth-<installation>--`. */
  namespacePrefix: string;
  /** The Kubernetes group its Lambdas' access entries map to. */
  group: string;
  /** The name of its ClusterRole, ClusterRoleBinding and admission policy. */
  rbacName: string;
  /**
   * The load balancer controller's ingress group its apps share unless the install names one: one ALB per install,
   * whose attributes (the idle timeout) are the install's alone.
   */
  ingressGroup: string;
}

export function clusterScope(installation: string): ClusterScope {
  if (installation === DEFAULT_INSTALLATION) {
    return {
      namespacePrefix: 'berth-',
      group: 'berth:control-plane',
      rbacName: 'berth-control-plane',
      ingressGroup: 'berth-apps',
    };
  }
  return {
    namespacePrefix: `berth-${installation}--`,
    group: `berth:${installation}:control-plane`,
    rbacName: `berth-${installation}-control-plane`,
    ingressGroup: `berth-${installation}-apps`,
  };
}

/** The install's tenant namespaces as a pattern, as access scopes and Fargate profiles take one (a trailing `*`). */
export const tenantNamespaces = (scope: ClusterScope) => `${scope.namespacePrefix}*`;

/**
 * The install's tenant namespaces and no other install's, as an RE2 pattern (what its admission policy holds its
 * writes to): the prefix, then a name without `--`. Tenant ids have none, nor do the names namespaceOf shortens,
 * while another install's namespaces have one right after their install's name (`berth-<name>--…`).
 */
export const ownNamespaces = (scope: ClusterScope) => `^${scope.namespacePrefix}[a-z0-9]+(-[a-z0-9]+)*$`;

/**
 * A tenant's namespace: its id after the install's prefix. Tenant ids never contain `--`, so no two installs'
 * tenants share one: the default install's names have no `--`, another's begin with its name and `--`. An id too long
 * to follow the prefix within 63 characters keeps what fits, without trailing hyphens, and ends with a hash of it all.
 */
export function namespaceOf(scope: ClusterScope, tenantId: string): string {
  const name = `${scope.namespacePrefix}${tenantId}`;
  if (name.length <= MAX_NAMESPACE) return name;
  const hash = createHash('sha256').update(tenantId).digest('hex').slice(0, HASH_DIGITS);
  const room = MAX_NAMESPACE - scope.namespacePrefix.length - HASH_DIGITS - 1;
  return `${scope.namespacePrefix}${tenantId.slice(0, room).replace(/-+$/, '')}-${hash}`;
}
