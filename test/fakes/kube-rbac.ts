import { controlPlaneRbac, TENANT_NAMESPACES } from '../../functions/adapters/eks/rbac.ts';

/** What the API server authorizes a resource request as (its RequestInfo); undefined for discovery paths. */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  namespace: string | undefined;
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

/**
 * AmazonEKSEditPolicy as it applies to what Berth touches: Kubernetes' `edit` role, which writes workloads, services,
 * pods and network objects and reads (never writes) namespaces, quotas and limit ranges. EKS grants it to the
 * control plane's roles in `berth-*` only (infra/eks.ts).
 */
const EDIT_POLICY: Rule[] = [
  { apiGroups: [''], resources: ['pods', 'services', 'configmaps', 'secrets'], verbs: [...READ, ...WRITE] },
  {
    apiGroups: [''],
    resources: ['pods/log', 'pods/status', 'events', 'namespaces', 'resourcequotas', 'limitranges'],
    verbs: READ,
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'deployments/scale', 'replicasets', 'statefulsets', 'daemonsets'],
    verbs: [...READ, ...WRITE],
  },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['ingresses', 'networkpolicies'],
    verbs: [...READ, ...WRITE],
  },
];

const CLUSTER_ROLE: Rule[] = controlPlaneRbac().flatMap((m) =>
  m.kind === 'ClusterRole' ? ((m as unknown as { rules: Rule[] }).rules ?? []) : [],
);

const allows = (rules: Rule[], a: RequestAttributes) =>
  rules.some(
    (r) =>
      r.apiGroups.includes(a.group) &&
      r.resources.includes(a.resource) &&
      (r.verbs.includes(a.verb) || r.verbs.includes('*')),
  );

const inTenantNamespace = (namespace: string | undefined) =>
  namespace?.startsWith(TENANT_NAMESPACES.replace(/\*$/, '')) === true;

/** Whether the control plane's Lambdas may make a request: the edit policy in tenants' namespaces, its ClusterRole. */
export function controlPlaneMay(a: RequestAttributes): boolean {
  return allows(CLUSTER_ROLE, a) || (inTenantNamespace(a.namespace) && allows(EDIT_POLICY, a));
}

/**
 * A request's attributes as the API server derives them: the verb from the method (a GET of a collection is `list`,
 * `watch` with watch=true; a DELETE of one `deletecollection`), the group from `/apis/<group>/<version>`, the
 * namespace from the path, and for a namespace itself its own name.
 */
export function requestAttributes(
  method: string,
  path: string,
  query: Record<string, string>,
): RequestAttributes | undefined {
  const parts = path.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : [];
  const group = parts[0] === 'apis' ? (parts[1] ?? '') : '';
  if (rest.length === 0) return undefined;
  let namespace: string | undefined;
  let [resource = '', name, subresource] = rest;
  if (resource === 'namespaces' && rest.length > 2) {
    namespace = name;
    [resource = '', name, subresource] = rest.slice(2);
  } else if (resource === 'namespaces') {
    namespace = name;
  }
  const collection = name === undefined;
  const verb =
    method === 'GET'
      ? collection
        ? query.watch === 'true'
          ? 'watch'
          : 'list'
        : 'get'
      : method === 'DELETE'
        ? collection
          ? 'deletecollection'
          : 'delete'
        : method === 'POST'
          ? 'create'
          : method === 'PUT'
            ? 'update'
            : 'patch';
  return { verb, group, resource: subresource ? `${resource}/${subresource}` : resource, namespace };
}
