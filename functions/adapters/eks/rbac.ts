import type { Manifest } from './manifests.ts';

/** The Kubernetes group the control plane's EKS access entries map its Lambda roles to. */
export const CONTROL_PLANE_GROUP = 'berth:control-plane';

/** The namespaces Berth's apps live in (one per tenant): the scope of its namespaced access policy. */
export const TENANT_NAMESPACES = 'berth-*';

/**
 * What the control plane needs beyond the namespace-scoped AmazonEKSEditPolicy on `berth-*`: creating tenants'
 * namespaces with their quota and limits (the edit role may not write those), and listing pods and their usage
 * across namespaces (the meter's one call). Nothing else cluster-wide; no secrets, no RBAC, no nodes.
 */
export function controlPlaneRbac(): Manifest[] {
  const name = 'berth-control-plane';
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [
        {
          apiGroups: [''],
          resources: ['namespaces', 'resourcequotas', 'limitranges'],
          verbs: ['get', 'create', 'patch'],
        },
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        { apiGroups: ['metrics.k8s.io'], resources: ['pods'], verbs: ['list'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: CONTROL_PLANE_GROUP }],
    },
  ];
}
