import { type CelInput, run } from '@bufbuild/cel';
import { describe, expect, it } from 'vitest';
import {
  CONTROL_PLANE_GROUP,
  CONTROL_PLANE_SCOPE,
  controlPlaneRbac,
} from '../../../functions/adapters/eks/rbac.ts';

/** A JSON value as CEL input: objects become maps, as the API server gives an admission request to CEL. */
function celValue(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(celValue);
  if (value && typeof value === 'object') {
    return new Map(Object.entries(value).map(([key, inner]) => [key, celValue(inner)]));
  }
  return value as CelInput;
}

interface Write {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  resource: 'namespaces' | 'resourcequotas' | 'limitranges';
  name: string;
  /** The namespace of a namespaced object; empty for a namespace itself, as in an admission request. */
  namespace: string;
  groups: string[];
}

/** What the API server decides for a write: the policy applies when its match condition holds, then must pass. */
function admitted({ operation, resource, name, namespace, groups }: Write): boolean {
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

const controlPlane = ['system:authenticated', CONTROL_PLANE_GROUP];

describe("the control plane's cluster access", () => {
  it('lets the control plane write tenants’ namespaces, their quotas and limits, and delete them', () => {
    for (const operation of ['CREATE', 'UPDATE', 'DELETE'] as const) {
      expect(
        admitted({
          operation,
          resource: 'namespaces',
          name: 'berth-acme',
          namespace: '',
          groups: controlPlane,
        }),
      ).toBe(true);
      for (const resource of ['resourcequotas', 'limitranges'] as const) {
        expect(
          admitted({
            operation,
            resource,
            name: 'berth-plan',
            namespace: 'berth-acme',
            groups: controlPlane,
          }),
        ).toBe(true);
      }
    }
  });

  it('refuses the control plane any other namespace, or a quota or limit outside tenants’ namespaces', () => {
    for (const operation of ['CREATE', 'UPDATE', 'DELETE'] as const) {
      for (const name of ['kube-system', 'default', 'platform-berth-x']) {
        expect(
          admitted({ operation, resource: 'namespaces', name, namespace: '', groups: controlPlane }),
        ).toBe(false);
        expect(
          admitted({
            operation,
            resource: 'resourcequotas',
            name: 'zero',
            namespace: name,
            groups: controlPlane,
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
