import type { Manifest } from './manifests.ts';

/** The Kubernetes group the control plane's EKS access entries map its Lambda roles to. */
export const CONTROL_PLANE_GROUP = 'berth:control-plane';

/** The namespaces Berth's apps live in (one per tenant): the scope of its namespaced access policy. */
export const TENANT_NAMESPACES = 'berth-*';

const NAME = 'berth-control-plane';

/**
 * The admission rule that scopes the ClusterRole's writes to tenants' namespaces: RBAC cannot limit a
 * cluster-wide verb to names starting with `berth-`, so without it the control plane could delete `kube-system`, or
 * set a quota of zero pods on it. It holds for every write the control plane's group makes to namespaces, quotas
 * and limit ranges: on a namespace (by its name) or inside one (by its namespace).
 */
export const CONTROL_PLANE_SCOPE = {
  matchCondition: `'${CONTROL_PLANE_GROUP}' in request.userInfo.groups`,
  validation:
    "request.resource.resource == 'namespaces' ? request.name.startsWith('berth-') : request.namespace.startsWith('berth-')",
};

/**
 * What the control plane needs beyond the namespace-scoped AmazonEKSEditPolicy on `berth-*`: creating tenants'
 * namespaces with their quota and limits (the edit role may not write those), listing its namespaces and deleting
 * those of deleted tenants, and listing pods and their usage across namespaces (the meter's one call). The writes
 * reach `berth-*` namespaces only (the admission policy first, so no moment grants more). Nothing else
 * cluster-wide; no secrets, no RBAC, no nodes.
 */
export function controlPlaneRbac(): Manifest[] {
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: NAME },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              operations: ['CREATE', 'UPDATE', 'DELETE'],
              resources: ['namespaces', 'resourcequotas', 'limitranges'],
            },
          ],
        },
        matchConditions: [{ name: 'control-plane', expression: CONTROL_PLANE_SCOPE.matchCondition }],
        validations: [
          {
            expression: CONTROL_PLANE_SCOPE.validation,
            message: "Berth's control plane writes only its tenants' namespaces (berth-*)",
            reason: 'Forbidden',
          },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: NAME },
      spec: { policyName: NAME, validationActions: ['Deny'] },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: NAME },
      rules: [
        {
          apiGroups: [''],
          resources: ['namespaces', 'resourcequotas', 'limitranges'],
          verbs: ['get', 'create', 'patch'],
        },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'delete'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        { apiGroups: ['metrics.k8s.io'], resources: ['pods'], verbs: ['list'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: NAME },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: CONTROL_PLANE_GROUP }],
    },
  ];
}
