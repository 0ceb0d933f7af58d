import { type ClusterScope, ownNamespaces } from './cluster-scope.ts';
import type { Manifest } from './manifests.ts';

/**
 * The admission rule that scopes the ClusterRole's writes to the install's tenant namespaces (ownNamespaces): RBAC
 * cannot limit a cluster-wide verb to names of a pattern, so without it the control plane could delete `kube-system`
 * (or another install's tenants), or set a quota of zero pods on it. It holds for every write the install's group
 * makes to namespaces, quotas and limit ranges: on a namespace (by its name) or inside one (by its namespace).
 */
export function controlPlaneScope(scope: ClusterScope) {
  const own = `'${ownNamespaces(scope)}'`;
  return {
    matchCondition: `'${scope.group}' in request.userInfo.groups`,
    validation:
      `request.resource.resource == 'namespaces' ? request.name.matches(${own}) ` +
      `: request.namespace.matches(${own})`,
  };
}

/**
 * What the control plane needs beyond the namespace-scoped AmazonEKSEditPolicy on its tenant namespaces: creating
 * them with their quota and limits (the edit role may not write those), listing namespaces and deleting those of
 * deleted tenants, and listing pods and their usage across namespaces (the meter's one call). The writes reach the
 * install's tenant namespaces only (the admission policy first, so no moment grants more). Nothing else
 * cluster-wide; no secrets, no RBAC, no nodes. Each install has its own, named for it (ClusterScope).
 */
export function controlPlaneRbac(scope: ClusterScope): Manifest[] {
  const name = scope.rbacName;
  const rule = controlPlaneScope(scope);
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
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
        matchConditions: [{ name: 'control-plane', expression: rule.matchCondition }],
        validations: [
          {
            expression: rule.validation,
            message: `Berth's control plane writes only its own tenants' namespaces (${scope.namespacePrefix}<tenant>)`,
            reason: 'Forbidden',
          },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: { policyName: name, validationActions: ['Deny'] },
    },
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
        { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'delete'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        { apiGroups: ['metrics.k8s.io'], resources: ['pods'], verbs: ['list'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: scope.group }],
    },
  ];
}
