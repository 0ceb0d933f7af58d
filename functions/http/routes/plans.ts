import * as z from 'zod';
import { DnsLabel, ListQuery, pageOf } from '../../../schemas/common.ts';
import { Plan, PlanCreate, PlanPatch } from '../../../schemas/plan.ts';
import { createPlan, getPlan, listPlans, updatePlan } from '../../core/plans.ts';
import type { ApiDeps } from '../context.ts';
import { etagOf, ifMatchVersions } from '../etag.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  apiRoute,
  bearer,
  etagHeader,
  idempotencyHeader,
  ifMatchHeader,
  json,
  jsonBody,
  responseHeaders,
} from '../openapi.ts';
import { router } from './router.ts';

const PlanParams = z.object({ planId: DnsLabel.meta({ description: "The plan's id.", example: 'pro' }) });
const admin = requireRole('admin');
const tags = ['Plans (admin)'];

export function planRoutes(deps: ApiDeps) {
  return router()
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/plans',
        operationId: 'listPlans',
        summary: 'List plans',
        description: 'Every plan, by id, archived ones too. `free` and `pro` exist from the start.',
        tags,
        security: bearer,
        middleware: admin,
        request: { query: ListQuery },
        responses: { 200: json(pageOf(Plan, 'PlanPage'), 'Plans.') },
      }),
      async (c) => c.json(await listPlans(deps, c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/plans',
        operationId: 'createPlan',
        summary: 'Create a plan',
        description:
          "A plan's `limits` bound what each of its tenants may reserve at once: apps, replicas per" +
          ' app, and the vCPU and memory of all their desired replicas together; `maxMonthlyCost` ' +
          "and `maxMonthlyInstanceHours` may cap a calendar month's usage as well. 409 " +
          '`plan.exists` when the id is taken.',
        tags,
        security: bearer,
        middleware: admin,
        request: { headers: idempotencyHeader, body: jsonBody(PlanCreate) },
        responses: { 201: { ...json(Plan, 'The plan.'), headers: responseHeaders('ETag', 'Location') } },
      }),
      async (c) => {
        const plan = await createPlan(deps, c.req.valid('json'));
        c.header('location', `/v1/plans/${plan.id}`);
        c.header('etag', etagOf(plan.version));
        return c.json(plan, 201);
      },
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/plans/{planId}',
        operationId: 'getPlan',
        summary: 'Get a plan',
        description: '404 `plan.notFound` when there is none of that id.',
        tags,
        security: bearer,
        middleware: admin,
        request: { params: PlanParams },
        responses: { 200: { ...json(Plan, 'The plan.'), headers: etagHeader } },
      }),
      async (c) => {
        const plan = await getPlan(deps, c.req.valid('param').planId);
        c.header('etag', etagOf(plan.version));
        return c.json(plan, 200);
      },
    )
    .openapi(
      apiRoute({
        method: 'patch',
        path: '/v1/plans/{planId}',
        operationId: 'updatePlan',
        summary: "Change a plan's name, limits or caps, or archive it",
        description:
          'Only the fields given change; a monthly cap given as null is removed. Lowered limits ' +
          'stop nothing that runs: a tenant over them keeps what it has, and its writes that would ' +
          'add capacity are refused (403 `quota.exceeded`). `archived: true` stops offering the ' +
          'plan: its tenants stay on it, and no tenant is created on it or moved to it. A patch ' +
          'that changes nothing writes nothing and keeps the ETag.',
        tags,
        security: bearer,
        middleware: admin,
        request: { params: PlanParams, headers: ifMatchHeader, body: jsonBody(PlanPatch) },
        responses: { 200: { ...json(Plan, 'The plan.'), headers: etagHeader } },
      }),
      async (c) => {
        const plan = await updatePlan(
          deps,
          c.req.valid('param').planId,
          c.req.valid('json'),
          ifMatchVersions(c),
        );
        c.header('etag', etagOf(plan.version));
        return c.json(plan, 200);
      },
    );
}
