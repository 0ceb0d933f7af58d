import { type CelInput, run } from '@bufbuild/cel';
import {
  CONTROL_PLANE_GROUP,
  CONTROL_PLANE_SCOPE,
  controlPlaneRbac,
  TENANT_NAMESPACES,
} from '../../functions/adapters/eks/rbac.ts';

/** What the API server authorizes a resource request as (its RequestInfo); undefined for discovery paths. */
export interface RequestAttributes {
  verb: string;
  group: string;
  resource: string;
  /** The object's name; undefined for a collection. */
  name: string | undefined;
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
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: [...READ, ...WRITE] },
];

const CLUSTER_ROLE: Rule[] = controlPlaneRbac().flatMap((m) =>
  m.kind === 'ClusterRole' ? ((m as unknown as { rules: Rule[] }).rules ?? []) : [],
);

const allows = (rules: Rule[], a: RequestAttributes) =>
  rules.some(
    (r) => r.apiGroups.includes(a.group) && r.resources.includes(a.resource) && r.verbs.includes(a.verb),
  );

const inTenantNamespace = (namespace: string | undefined) =>
  namespace?.startsWith(TENANT_NAMESPACES.replace(/\*$/, '')) === true;

/** Whether the control plane's Lambdas may make a request: the edit policy in tenants' namespaces, its ClusterRole. */
function controlPlaneMay(a: RequestAttributes): boolean {
  return allows(CLUSTER_ROLE, a) || (inTenantNamespace(a.namespace) && allows(EDIT_POLICY, a));
}

/**
 * A request's attributes as the API server derives them: the verb from the method (a GET of a collection is `list`,
 * `watch` with watch=true; a DELETE of one `deletecollection`), the group from `/apis/<group>/<version>`, the
 * namespace from the path, and for a namespace itself its own name.
 */
function requestAttributes(
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
  return { verb, group, resource: subresource ? `${resource}/${subresource}` : resource, name, namespace };
}

/** A JSON value as CEL input: objects become maps, as the API server gives an admission request to CEL. */
function celValue(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(celValue);
  if (value && typeof value === 'object') {
    return new Map(Object.entries(value).map(([key, inner]) => [key, celValue(inner)]));
  }
  return value as CelInput;
}

/** A write as an admission policy sees it. */
export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  resource: string;
  name: string;
  /** The namespace of a namespaced object; empty for a namespace itself, as in an admission request. */
  namespace: string;
  groups: string[];
}

/** The groups the control plane's Lambdas have on the cluster: authenticated, and Berth's own. */
export const CONTROL_PLANE_GROUPS = ['system:authenticated', CONTROL_PLANE_GROUP];

/** The resources the admission policy applies to (its match constraints). */
const SCOPED = new Set(
  controlPlaneRbac().flatMap((m) =>
    m.kind === 'ValidatingAdmissionPolicy'
      ? (
          m.spec as { matchConstraints: { resourceRules: { resources: string[] }[] } }
        ).matchConstraints.resourceRules.flatMap((r) => r.resources)
      : [],
  ),
);

/**
 * What the admission policy rbac.ts applies decides for a write, evaluated as the API server does: it applies to
 * namespaces, quotas and limit ranges when its match condition holds, and then must pass.
 */
export function admitted({ operation, resource, name, namespace, groups }: AdmissionRequest): boolean {
  if (!SCOPED.has(resource)) return true;
  const request = celValue({
    operation,
    resource: { group: '', version: 'v1', resource },
    name,
    namespace,
    userInfo: { username: 'arn:aws:sts::123456789012:assumed-role/reconcile/x', groups },
  });
  if (run(CONTROL_PLANE_SCOPE.matchCondition, { request }) !== true) return true;
  return run(CONTROL_PLANE_SCOPE.validation, { request }) === true;
}

/**
 * Why the API server would refuse the control plane's request (its message), or undefined: first its RBAC, where
 * an apply that makes an object (`exists` false) needs `create` as well; then the admission policy, on the writes
 * it holds to tenants' namespaces (a delete of nothing answers 404 before it).
 */
export function refusalOf(
  request: { method: string; path: string; query: Record<string, string>; contentType: string | undefined },
  exists: boolean,
): string | undefined {
  const attributes = requestAttributes(request.method, request.path, request.query);
  if (!attributes) return undefined;
  const creates =
    request.method === 'PATCH' && request.contentType?.startsWith('application/apply-patch') && !exists;
  for (const asked of creates ? [attributes, { ...attributes, verb: 'create' }] : [attributes]) {
    if (controlPlaneMay(asked)) continue;
    const { verb, group, resource, namespace } = asked;
    const where = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
    return `cannot ${verb} resource "${resource}" in API group "${group}" ${where}`;
  }
  const operation =
    request.method === 'DELETE'
      ? 'DELETE'
      : creates
        ? 'CREATE'
        : request.method === 'PATCH'
          ? 'UPDATE'
          : undefined;
  if (!attributes.name || !operation || (operation === 'DELETE' && !exists)) return undefined;
  const write = {
    operation,
    resource: attributes.resource,
    name: attributes.name,
    // A namespace's own admission request names no namespace.
    namespace: attributes.resource === 'namespaces' ? '' : (attributes.namespace ?? ''),
    groups: CONTROL_PLANE_GROUPS,
  } as const;
  return admitted(write) ? undefined : "Berth's control plane writes only its tenants' namespaces (berth-*)";
}
