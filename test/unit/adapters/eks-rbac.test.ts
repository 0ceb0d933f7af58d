import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_SCOPE, controlPlaneRbac } from '../../../functions/adapters/eks/rbac.ts';
import { admitted, CONTROL_PLANE_GROUPS } from '../../fakes/kube-rbac.ts';

describe("the control plane's cluster access", () => {
  it('lets the control plane write tenants’ namespaces, their quotas and limits, and delete them', () => {
    for (const operation of ['CREATE', 'UPDATE', 'DELETE'] as const) {
      expect(
        admitted({
          operation,
          resource: 'namespaces',
          name: 'berth-acme',
          namespace: '',
          groups: CONTROL_PLANE_GROUPS,
        }),
      ).toBe(true);
      for (const resource of ['resourcequotas', 'limitranges'] as const) {
        expect(
          admitted({
            operation,
            resource,
            name: 'berth-plan',
            namespace: 'berth-acme',
            groups: CONTROL_PLANE_GROUPS,
          }),
        ).toBe(true);
      }
    }
  });

  it('refuses the control plane any other namespace, or a quota or limit outside tenants’ namespaces', () => {
    for (const operation of ['CREATE', 'UPDATE', 'DELETE'] as const) {
      for (const name of ['kube-system', 'default', 'platform-berth-x']) {
        expect(
          admitted({ operation, resource: 'namespaces', name, namespace: '', groups: CONTROL_PLANE_GROUPS }),
        ).toBe(false);
        expect(
          admitted({
            operation,
            resource: 'resourcequotas',
            name: 'zero',
            namespace: name,
            groups: CONTROL_PLANE_GROUPS,
          }),
        ).toBe(false);
      }
    }
  });

  it('leaves everyone else to their own RBAC', () => {
    expect(
      admitted({
        operation: 'DELETE',
        resource: 'namespaces',
        name: 'kube-system',
        namespace: '',
        groups: ['system:masters'],
      }),
    ).toBe(true);
  });

  it('holds the policy before it grants anything, and binds it to deny', () => {
    const manifests = controlPlaneRbac();
    expect(manifests.map((m) => m.kind)).toEqual([
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'ClusterRole',
      'ClusterRoleBinding',
    ]);
    const [policy, binding] = manifests;
    expect(policy?.spec).toMatchObject({
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [''],
            operations: ['CREATE', 'UPDATE', 'DELETE'],
            resources: ['namespaces', 'resourcequotas', 'limitranges'],
          },
        ],
      },
      matchConditions: [{ expression: CONTROL_PLANE_SCOPE.matchCondition }],
      validations: [{ expression: CONTROL_PLANE_SCOPE.validation }],
    });
    expect(binding?.spec).toEqual({ policyName: 'berth-control-plane', validationActions: ['Deny'] });
  });
});
