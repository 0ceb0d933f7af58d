import { type CelInput, run } from '@bufbuild/cel';
import { DEFAULT_INSTALLATION } from '../../functions/adapters/aws/installation.ts';
import { type ClusterScope, clusterScope } from '../../functions/adapters/eks/cluster-scope.ts';
import { controlPlaneRbac, controlPlaneScope } from '../../functions/adapters/eks/rbac.ts';

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
 * control plane's roles in its install's tenant namespaces only (infra/eks.ts).
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

/** The default install's: what the fake API server's callers are unless their token is another install's. */
export const DEFAULT_SCOPE = clusterScope(DEFAULT_INSTALLATION);

/** Every install's ClusterRole grants the same; only its name and group differ. */
const CLUSTER_ROLE: Rule[] = controlPlaneRbac(DEFAULT_SCOPE).flatMap((m) =>
  m.kind === 'ClusterRole' ? ((m as unknown as { rules: Rule[] }).rules ?? []) : [],
);

const allows = (rules: Rule[], a: RequestAttributes) =>
  rules.some(
    (r) => r.apiGroups.includes(a.group) && r.resources.includes(a.resource) && r.verbs.includes(a.verb),
  );

const inTenantNamespace = (scope: ClusterScope, namespace: string | undefined) =>
  namespace?.startsWith(scope.namespacePrefix) === true;

/**
 * Whether an install's Lambdas may make a request: its ClusterRole, and the edit policy in its tenants' namespaces.
 */
function controlPlaneMay(scope: ClusterScope, a: RequestAttributes): boolean {
  return allows(CLUSTER_ROLE, a) || (inTenantNamespace(scope, a.namespace) && allows(EDIT_POLICY, a));
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

/** The groups an install's Lambdas have on the cluster: authenticated, and the install's own. */
export const controlPlaneGroups = (scope: ClusterScope) => ['system:authenticated', scope.group];

/** The resources the admission policy applies to (its match constraints). */
const SCOPED = new Set(
  controlPlaneRbac(DEFAULT_SCOPE).flatMap((m) =>
    m.kind === 'ValidatingAdmissionPolicy'
      ? (
          m.spec as { matchConstraints: { resourceRules: { resources: string[] }[] } }
        ).matchConstraints.resourceRules.flatMap((r) => r.resources)
      : [],
  ),
);

/**
 * What the admission policies rbac.ts applies (one per install on the cluster) decide for a write, evaluated as the
 * API server does: each applies to namespaces, quotas and limit ranges when its match condition holds, and then must
 * pass.
 */
export function admitted(
  { operation, resource, name, namespace, groups }: AdmissionRequest,
  installs: ClusterScope[],
): boolean {
  if (!SCOPED.has(resource)) return true;
  const request = celValue({
    operation,
    resource: { group: '', version: 'v1', resource },
    name,
    namespace,
    userInfo: { username: 'arn:aws:sts::123456789012:assumed-role/reconcile/x', groups },
  });
  return installs.every((scope) => {
    const policy = controlPlaneScope(scope);
    return run(policy.matchCondition, { request }) !== true || run(policy.validation, { request }) === true;
  });
}

/**
 * Why the API server would refuse a request of the install `caller`'s control plane (its message), or undefined:
 * first its RBAC, where an apply that makes an object (`exists` false) needs `create` as well; then the admission
 * policies of the `installs` on the cluster, on the writes they hold to tenants' namespaces (a delete of nothing
 * answers 404 before them).
 */
export function refusalOf(
  request: { method: string; path: string; query: Record<string, string>; contentType: string | undefined },
  exists: boolean,
  caller: ClusterScope,
  installs: ClusterScope[],
): string | undefined {
  const attributes = requestAttributes(request.method, request.path, request.query);
  if (!attributes) return undefined;
  const creates =
    request.method === 'PATCH' && request.contentType?.startsWith('application/apply-patch') && !exists;
  for (const asked of creates ? [attributes, { ...attributes, verb: 'create' }] : [attributes]) {
    if (controlPlaneMay(caller, asked)) continue;
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
    groups: controlPlaneGroups(caller),
  } as const;
  return admitted(write, installs) ? undefined : refusalMessage(caller);
}

/** What an install's admission policy answers a write it refuses: its validation's message, as rbac.ts wrote it. */
function refusalMessage(scope: ClusterScope): string {
  const policy = controlPlaneRbac(scope).find((m) => m.kind === 'ValidatingAdmissionPolicy');
  const spec = policy?.spec as { validations: { message: string }[] } | undefined;
  const message = spec?.validations[0]?.message;
  if (!message) throw new Error('the admission policy has no validation message');
  return message;
}
