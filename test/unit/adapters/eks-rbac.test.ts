import { describe, expect, it } from 'vitest';
import { clusterScope, namespaceOf } from '../../../functions/adapters/eks/cluster-scope.ts';
import { controlPlaneRbac, controlPlaneScope } from '../../../functions/adapters/eks/rbac.ts';
import { admitted, controlPlaneGroups, DEFAULT_SCOPE } from '../../fakes/kube-rbac.ts';

const CONTROL_PLANE_GROUPS = controlPlaneGroups(DEFAULT_SCOPE);
const STAGING = clusterScope('staging');
/** The cluster as two installs share it: each install's admission policy holds. */
const BOTH = [DEFAULT_SCOPE, STAGING];

describe("the control plane's cluster access", () => {
  it('lets the control plane write tenants’ namespaces, their quotas and limits, and delete them', () => {
    for (const operation of ['CREATE', 'UPDATE', 'DELETE'] as const) {
      expect(
        admitted(
          {
            operation,
            resource: 'namespaces',
            name: 'berth-acme',
            namespace: '',
            groups: CONTROL_PLANE_GROUPS,
          },
          BOTH,
        ),
      ).toBe(true);
      for (const resource of ['resourcequotas', 'limitranges'] as const) {
        expect(
          admitted(
            {
              operation,
              resource,
              name: 'berth-plan',
              namespace: 'berth-acme',
              groups: CONTROL_PLANE_GROUPS,
            },
            BOTH,
          ),
        ).toBe(true);
      }
    }
  });

  it('refuses the control plane any other namespace, or a quota or limit outside tenants’ namespaces', () => {
    for (const operation of ['CREATE', 'UPDATE', 'DELETE'] as const) {
      for (const name of ['kube-system', 'default', 'platform-berth-x']) {
        expect(
          admitted(
            { operation, resource: 'namespaces', name, namespace: '', groups: CONTROL_PLANE_GROUPS },
            BOTH,
          ),
        ).toBe(false);
        expect(
          admitted(
            {
              operation,
              resource: 'resourcequotas',
              name: 'zero',
              namespace: name,
              groups: CONTROL_PLANE_GROUPS,
            },
            BOTH,
          ),
        ).toBe(false);
      }
    }
  });

  it("holds the default install's control plane to its own tenants' namespaces, not another install's", () => {
    const writes = (name: string) =>
      admitted(
        { operation: 'DELETE', resource: 'namespaces', name, namespace: '', groups: CONTROL_PLANE_GROUPS },
        BOTH,
      );
    expect(writes('berth-acme')).toBe(true);
    expect(writes(namespaceOf(DEFAULT_SCOPE, `a${'b'.repeat(62)}`))).toBe(true); // shortened, with its hash
    for (const name of ['berth-staging--acme', 'berth-a--b', 'berth-', 'berth-acme-'])
      expect(writes(name)).toBe(false);
  });

  it("holds another install's control plane to its own tenants' namespaces, never the default install's", () => {
    const groups = controlPlaneGroups(STAGING);
    const writes = (name: string) =>
      admitted({ operation: 'CREATE', resource: 'namespaces', name, namespace: '', groups }, BOTH);
    expect(writes('berth-staging--acme')).toBe(true);
    for (const name of ['berth-acme', 'berth-other--acme', 'kube-system']) expect(writes(name)).toBe(false);
    const quota = { operation: 'UPDATE', resource: 'resourcequotas', name: 'berth-plan', groups } as const;
    expect(admitted({ ...quota, namespace: 'berth-staging--acme' }, BOTH)).toBe(true);
    expect(admitted({ ...quota, namespace: 'berth-acme' }, BOTH)).toBe(false);
  });

  it('leaves everyone else to their own RBAC', () => {
    expect(
      admitted(
        {
          operation: 'DELETE',
          resource: 'namespaces',
          name: 'kube-system',
          namespace: '',
          groups: ['system:masters'],
        },
        BOTH,
      ),
    ).toBe(true);
  });

  it('holds the policy before it grants anything, and binds it to deny', () => {
    const manifests = controlPlaneRbac(DEFAULT_SCOPE);
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
      matchConditions: [{ expression: controlPlaneScope(DEFAULT_SCOPE).matchCondition }],
      validations: [{ expression: controlPlaneScope(DEFAULT_SCOPE).validation }],
    });
    expect(binding?.spec).toEqual({ policyName: 'berth-control-plane', validationActions: ['Deny'] });
  });
});
