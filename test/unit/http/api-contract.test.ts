import { describe, expect, it } from 'vitest';
import { contractBreaches } from '../../support/api-contract.ts';

const json = 'application/json';
const problemJson = 'application/problem+json';
const plan = {
  id: 'team',
  name: 'Team',
  limits: { apps: 5, instancesPerApp: 3, vcpu: 2, memoryMiB: 4096 },
  archived: false,
  version: 1,
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
};
const problem = {
  type: 'https://berth.dev/problems/app.notFound',
  title: 'Not Found',
  status: 404,
  detail: 'no app "web"',
  instance: '/v1/apps/web',
  code: 'app.notFound',
};
const answer = (status: number, contentType: string | null, body: unknown, headers = new Headers()) => ({
  status,
  contentType,
  text: body === undefined ? '' : JSON.stringify(body),
  headers,
});
/** The plan's version, as a PATCH of it answers it. */
const planEtag = new Headers({ etag: '"1"' });

/** The checker every API test's answers go through (test/support/local-api.ts): it must be able to fail. */
describe('the API contract check (schemas/openapi.json, made strict)', () => {
  it('passes answers the document describes', () => {
    const patched = { method: 'PATCH', path: '/v1/plans/team' };
    expect(contractBreaches(patched, answer(200, `${json}; charset=UTF-8`, plan, planEtag))).toEqual([]);
    expect(
      contractBreaches({ method: 'GET', path: '/v1/apps/web?x=1' }, answer(404, problemJson, problem)),
    ).toEqual([]);
    expect(
      contractBreaches({ method: 'DELETE', path: '/v1/tenants/acme' }, answer(204, null, undefined)),
    ).toEqual([]);
  });

  it('refuses a field the document does not name, and a field it requires that is missing', () => {
    const request = { method: 'PATCH', path: '/v1/plans/team' };
    expect(contractBreaches(request, answer(200, json, { ...plan, secret: 'x' }, planEtag))).toEqual([
      expect.stringMatching(
        /^PATCH \/v1\/plans\/\{planId\} 200: \(body\) must NOT have additional properties/,
      ),
    ]);
    const { limits: _, ...noLimits } = plan;
    expect(contractBreaches(request, answer(200, json, noLimits, planEtag))).toEqual([
      expect.stringMatching(/must have required property 'limits'/),
    ]);
    expect(
      contractBreaches(request, answer(200, json, { ...plan, createdAt: 'yesterday' }, planEtag)),
    ).toEqual([expect.stringMatching(/\/createdAt must match format "date-time"/)]);
  });

  it('refuses a status, a content type or a body the route does not document', () => {
    const request = { method: 'GET', path: '/v1/apps/web' };
    expect(contractBreaches(request, answer(418, problemJson, problem))).toEqual([
      'GET /v1/apps/{app} 418: the status is not documented',
    ]);
    expect(contractBreaches(request, answer(404, json, problem))).toEqual([
      'GET /v1/apps/{app} 404: content type "application/json" where the document has application/problem+json',
    ]);
    expect(contractBreaches({ method: 'DELETE', path: '/v1/tenants/acme' }, answer(204, json, {}))).toEqual([
      'DELETE /v1/tenants/{tenantId} 204: a body where none is documented',
    ]);
  });

  it("refuses a header of Berth's own the answer's response does not document, or lacks", () => {
    const created = answer(201, json, plan, new Headers({ location: '/v1/plans/team', etag: '"1"' }));
    expect(contractBreaches({ method: 'POST', path: '/v1/plans' }, created)).toEqual([]);
    // A new plan answered without where it is, or without its version (Idempotent-Replayed is only for a replay).
    const unplaced = answer(201, json, plan, new Headers({ etag: '"1"' }));
    expect(contractBreaches({ method: 'POST', path: '/v1/plans' }, unplaced)).toEqual([
      'POST /v1/plans 201: header location is missing',
    ]);
    expect(contractBreaches({ method: 'PATCH', path: '/v1/plans/team' }, answer(200, json, plan))).toEqual([
      'PATCH /v1/plans/{planId} 200: header etag is missing',
    ]);
    const read = answer(200, json, plan, new Headers({ etag: '"1"', location: '/v1/plans/team' }));
    expect(contractBreaches({ method: 'GET', path: '/v1/plans/team' }, read)).toEqual([
      'GET /v1/plans/{planId} 200: header location is not documented',
    ]);
    const limited = answer(429, problemJson, problem, new Headers({ 'retry-after': '3' }));
    expect(contractBreaches({ method: 'GET', path: '/v1/plans/team' }, limited)).toEqual([]);
  });

  it('takes only a problem from a path or method the API has no route for', () => {
    expect(contractBreaches({ method: 'GET', path: '/v1/nope' }, answer(404, problemJson, problem))).toEqual(
      [],
    );
    expect(
      contractBreaches({ method: 'PUT', path: '/v1/apps/web' }, answer(405, problemJson, problem)),
    ).toEqual([]);
    expect(contractBreaches({ method: 'GET', path: '/v1/nope' }, answer(200, json, {}))).toEqual([
      'GET /v1/nope (no such route) 200: a route that is not documented',
    ]);
  });
});
