import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClusterScope,
  clusterScope,
  namespaceOf,
  ownNamespaces,
  tenantNamespaces,
} from '../../../functions/adapters/eks/cluster-scope.ts';
import { DNS_LABEL } from '../../../schemas/common.ts';
import { TenantId } from '../../../schemas/tenant.ts';

const DEFAULT = clusterScope('berth');
const STAGING = clusterScope('staging');

describe('what an install owns in a Kubernetes cluster', () => {
  it('keeps the names the default install always had, and names another install in all of its own', () => {
    const names = (scope: ClusterScope) => ({
      ...scope,
      acme: namespaceOf(scope, 'acme'),
      pattern: tenantNamespaces(scope),
    });
    expect(names(DEFAULT)).toEqual({
      namespacePrefix: 'berth-',
      group: 'berth:control-plane',
      rbacName: 'berth-control-plane',
      ingressGroup: 'berth-apps',
      acme: 'berth-acme',
      pattern: 'berth-*',
    });
    expect(names(STAGING)).toEqual({
      namespacePrefix: 'berth-staging--',
      group: 'berth:staging:control-plane',
      rbacName: 'berth-staging-control-plane',
      ingressGroup: 'berth-staging-apps',
      acme: 'berth-staging--acme',
      pattern: 'berth-staging--*',
    });
  });

  it('fits a tenant id too long for a namespace in 63 characters, ending it with a hash of the whole id', () => {
    const long = `a${'b'.repeat(44)}-c${'d'.repeat(12)}`; // 59 characters: "berth-" and it make 65
    const other = `a${'b'.repeat(44)}-e${'d'.repeat(12)}`; // the same but for its 47th character
    const name = namespaceOf(DEFAULT, long);
    expect(name).toMatch(/^berth-ab{44}-[0-9a-f]{10}$/); // the hyphen at the cut is not kept twice
    expect(name).not.toContain('--');
    expect(namespaceOf(DEFAULT, other)).not.toBe(name);
    const longest = clusterScope(`s${'t'.repeat(30)}`); // the longest install name
    expect(namespaceOf(longest, long)).toMatch(/^berth-st{30}--ab{12}-[0-9a-f]{10}$/);
  });

  it("gives every tenant of every install its own namespace, which only its install's policy admits", () => {
    // Names that would run into each other under a looser scheme (install "a" with tenant "b-a", install "a-b" with
    // tenant "a", the default install with tenant "a-b"), any name, and long ids sharing their first 47 characters,
    // which end in a hash.
    const installation = fc.oneof(
      fc.constantFrom('berth', 'staging', 'a', 'b', 'a-b', 'a--b', 'a-b-a'),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/),
    );
    const tenantId = fc
      .oneof(
        fc.constantFrom('a', 'b', 'a-b', 'b-a', 'ab', 'b-a-b'),
        fc.stringMatching(/^[ab-]{0,12}$/).map((tail) => `a${'b'.repeat(46)}${tail}`),
      )
      .filter((id) => TenantId.safeParse(id).success);
    const pairs = fc.uniqueArray(fc.tuple(installation, tenantId), {
      selector: ([i, t]) => `${i}/${t}`,
      minLength: 2,
      maxLength: 40,
    });
    fc.assert(
      fc.property(pairs, (pairs) => {
        const names = pairs.map(([i, t]) => namespaceOf(clusterScope(i), t));
        expect(new Set(names).size).toBe(names.length);
        const installs = [...new Set(pairs.map(([i]) => i))];
        pairs.forEach(([i], index) => {
          const name = names[index] ?? '';
          expect(name).toMatch(DNS_LABEL);
          expect(name.startsWith(clusterScope(i).namespacePrefix)).toBe(true);
          // Its own install's admission policy admits it; no other install's does.
          const admitting = installs.filter((other) =>
            new RegExp(ownNamespaces(clusterScope(other))).test(name),
          );
          expect(admitting).toEqual([i]);
        });
      }),
    );
  });
});
