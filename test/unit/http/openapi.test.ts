import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { releasesKey } from '../../../functions/http/middleware/idempotency.ts';
import { OPENAPI_PATH, renderOpenApi } from '../../../functions/http/write-openapi.ts';
import { ApiKeyCreate } from '../../../schemas/api-key.ts';
import {
  AppCreate,
  AppPatch,
  DeploymentCreate,
  RollbackRequest,
  ScaleRequest,
} from '../../../schemas/app.ts';
import { PlanCreate, PlanPatch } from '../../../schemas/plan.ts';
import { RepositoryCreate } from '../../../schemas/repository.ts';
import { TenantCreate, TenantPatch } from '../../../schemas/tenant.ts';
import { documentAccepts } from '../../support/api-contract.ts';

interface Operation {
  operationId?: string;
  summary?: string;
  parameters?: { name: string; schema: unknown }[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, object> }> };
}

describe('schemas/openapi.json', () => {
  const rendered = renderOpenApi();
  const doc = JSON.parse(rendered) as Document;
  /** Every operation with its route as `METHOD /path`. */
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, ...op })),
  );

  /** A valid AppCreate body, for the checks of the document against the API's own schemas. */
  const app = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };

  it('names each client error that leaves an Idempotency-Key free, as the middleware does', () => {
    const described = operations
      .flatMap((op) => op.parameters ?? [])
      .find((p) => p.name === 'idempotency-key') as { description?: string } | undefined;
    const released = Array.from({ length: 100 }, (_, i) => 400 + i).filter(releasesKey);
    expect(released.length).toBeGreaterThan(0);
    for (const status of released) expect(described?.description, String(status)).toContain(String(status));
    expect(described?.description).toContain('5xx');
  });

  it('is what the routes generate (run `npm run openapi` after changing a route)', () => {
    expect(readFileSync(OPENAPI_PATH, 'utf8')).toBe(rendered);
  });

  it("passes Redocly's recommended rules, and describes every operation, parameter and tag", async () => {
    const config = await createConfig({
      extends: ['recommended'],
      rules: {
        // GET /healthz answers 200 whoever asks: it has no 4xx to document.
        'operation-4xx-response': 'off',
        // What the reference page shows beyond the recommended rules: every operation, parameter and tag described.
        'operation-description': 'error',
        'parameter-description': 'error',
        'operation-tag-defined': 'error',
        'tag-description': 'error',
      },
    });
    const problems = await lintFromString({
      source: rendered,
      absoluteRef: fileURLToPath(OPENAPI_PATH),
      config,
    });
    expect(problems.map((p) => `${p.ruleId}: ${p.message} (${p.location[0]?.pointer})`)).toEqual([]);
  });

  it('documents the problems each operation can answer, and no others', () => {
    const statuses = (route: string) =>
      Object.keys(operations.find((op) => op.route === route)?.responses ?? {}).join(' ');
    // A read: nothing to conflict with, no body, no If-Match, no Idempotency-Key.
    expect(statuses('GET /v1/apps')).toBe('200 400 401 403 404 429 500 503');
    // Nothing to validate but the query string, which takes no parameter.
    expect(statuses('GET /v1/tenant')).toBe('200 400 401 403 404 429 500 503');
    // A body and If-Match, but no Idempotency-Key.
    expect(statuses('PATCH /v1/apps/{app}')).toBe('200 400 401 403 404 409 412 413 415 429 500 503');
    // A POST whose body takes no fields: its Idempotency-Key, If-Match, and 415 for a body that is not JSON.
    expect(statuses('POST /v1/apps/{app}/stop')).toBe('202 400 401 403 404 409 412 413 415 422 429 500 503');
  });

  it("documents patterns a client's validator reads as the API does: the examples beside them match", () => {
    const patterned: { pattern: string; example?: unknown }[] = [];
    const walk = (node: unknown) => {
      if (typeof node !== 'object' || node === null) return;
      const { pattern, example } = node as { pattern?: unknown; example?: unknown };
      if (typeof pattern === 'string') patterned.push({ pattern, example });
      Object.values(node).forEach(walk);
    };
    walk(doc);
    // Display names' and DNS labels' at least.
    expect(patterned.filter((p) => typeof p.example === 'string').length).toBeGreaterThanOrEqual(4);
    const misread = patterned.filter(({ pattern, example }) =>
      // JSON Schema's patterns are ECMA-262's; validators differ on the u flag, so each must read alike either way.
      ['', 'u'].some((flags) => typeof example === 'string' && !new RegExp(pattern, flags).test(example)),
    );
    expect(misread).toEqual([]);
  });

  it('refuses, where JSON Schema can say it, what the API refuses, and takes what it takes', () => {
    const manyVars = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`V${i}`, 'x']));
    const cases: [string, z.ZodType, unknown][] = [
      ['AppCreate', AppCreate, { ...app, env: { LOG_LEVEL: 'info', _PRIVATE: '1' } }],
      ['AppCreate', AppCreate, { ...app, env: { '1A': 'x' } }],
      ['AppCreate', AppCreate, { ...app, env: { 'A-B': 'x' } }],
      ['AppCreate', AppCreate, { ...app, env: manyVars }],
      ['AppCreate', AppCreate, { ...app, name: 'My_App' }],
      ['TenantCreate', TenantCreate, { id: 'acme', name: 'Zoë & Co. (EU)', plan: 'pro' }],
      ['TenantCreate', TenantCreate, { id: 'acme', name: '株式会社', plan: 'pro' }],
      ['TenantCreate', TenantCreate, { id: 'acme', name: 'a\nb', plan: 'pro' }],
      ['TenantCreate', TenantCreate, { id: 'acme', name: 'a\u0085b', plan: 'pro' }],
      ['TenantCreate', TenantCreate, { id: 'acme', name: 'a\u202eb', plan: 'pro' }],
      // Spaces and line breaks around a name are trimmed, and then do not count.
      ['TenantCreate', TenantCreate, { id: 'acme', name: '\t¡', plan: 'pro' }],
      ['TenantCreate', TenantCreate, { id: 'acme', name: ` Acme${' '.repeat(250)}\n`, plan: 'pro' }],
      ['TenantCreate', TenantCreate, { id: 'acme', name: 'x'.repeat(201), plan: 'pro' }],
      ['TenantCreate', TenantCreate, { id: 'acme', name: ' \t ', plan: 'pro' }],
      [
        'PlanCreate',
        PlanCreate,
        { id: 'team', name: 'Team', limits: { apps: 5, instancesPerApp: 2, vcpu: 4, memoryMiB: 8192 } },
      ],
      [
        'PlanCreate',
        PlanCreate,
        { id: 'team', name: 'a\u2068b', limits: { apps: 5, instancesPerApp: 2, vcpu: 4, memoryMiB: 8192 } },
      ],
    ];
    const disagreements = cases
      .map(([component, schema, body]) => ({
        component,
        body,
        api: schema.safeParse(body).success,
        document: documentAccepts(component, body),
      }))
      .filter(({ api, document }) => api !== document);
    expect(disagreements).toEqual([]);
  });

  it('refuses no body the API takes: 300 valid bodies of each with one value replaced at random', async () => {
    const spec = {
      command: ['httpd', '-f'],
      env: { LOG_LEVEL: 'info' },
      healthCheck: { path: '/healthz', intervalSeconds: 10, timeoutSeconds: 2, gracePeriodSeconds: 5 },
    };
    const scaling = {
      min: 1,
      max: 4,
      targetCpuPercent: 60,
      schedules: [{ cron: '0 8 * * MON-FRI', timezone: 'Europe/Berlin', min: 2, max: 4 }],
    };
    const limits = { apps: 5, instancesPerApp: 4, vcpu: 8, memoryMiB: 16384, maxMonthlyCost: 120.5 };
    const seeds: [string, z.ZodType, object][] = [
      ['AppCreate', AppCreate, { ...app, ...spec, replicas: 2, scaling, runtime: 'docker' }],
      ['AppPatch', AppPatch, { ...spec, image: app.image, cpu: 1, memory: 2048, replicas: 1, scaling: null }],
      ['DeploymentCreate', DeploymentCreate, { ...spec, image: app.image, port: 3000 }],
      ['ScaleRequest', ScaleRequest, { replicas: 3 }],
      ['RollbackRequest', RollbackRequest, { revision: 2 }],
      ['TenantCreate', TenantCreate, { id: 'acme', name: 'Acme', plan: 'pro' }],
      ['TenantPatch', TenantPatch, { name: 'Acme EU', plan: 'free', status: 'suspended' }],
      ['PlanCreate', PlanCreate, { id: 'team', name: 'Team', limits }],
      [
        'PlanPatch',
        PlanPatch,
        { name: 'Team+', limits: { ...limits, maxMonthlyCost: null }, archived: true },
      ],
      ['RepositoryCreate', RepositoryCreate, { name: 'web' }],
      ['ApiKeyCreate', ApiKeyCreate, { role: 'tenant' }],
    ];
    const leaves = (value: unknown, path: string[] = []): string[][] =>
      value !== null && typeof value === 'object'
        ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, [...path, key]))
        : [path];
    const replaced = (value: unknown, [key, ...rest]: string[], leaf: unknown): unknown => {
      if (key === undefined) return leaf;
      const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string, unknown>;
      copy[key] = replaced(copy[key], rest, leaf);
      return copy;
    };
    const anyLeaf = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.constantFrom(0, 0.01, 0.07, 0.25, 1.1, 19.99, 100, ' padded ', '', null, true),
    );
    for (const [component, schema, seed] of seeds) {
      const valid = (await schema.safeParseAsync(seed)).success;
      expect({ component, valid }).toEqual({ component, valid: true });
      const paths = leaves(seed);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths), anyLeaf, async (path, leaf) => {
          const body = replaced(seed, path, leaf);
          if ((await schema.safeParseAsync(body)).success && !documentAccepts(component, body)) {
            throw new Error(`${component}: the API takes ${JSON.stringify(body)}, its document refuses it`);
          }
        }),
        { numRuns: 300 },
      );
    }
  });

  it('takes no null in a path or a query, which cannot carry one', () => {
    const nullable = operations.flatMap((op) =>
      (op.parameters ?? [])
        .filter((p) => JSON.stringify(p.schema).includes('"null"'))
        .map((p) => `${op.route} ${p.name}`),
    );
    expect(nullable).toEqual([]);
  });

  it('names every operation (a unique camelCase operationId, for generated clients) and says what it does', () => {
    const unnamed = operations.filter(
      (op) => !/^[a-z][A-Za-z]+$/.test(op.operationId ?? '') || !op.summary?.trim(),
    );
    expect(unnamed.map((op) => op.route)).toEqual([]);
    expect(new Set(operations.map((op) => op.operationId)).size).toBe(operations.length);
  });

  it('describes every field a request body carries', () => {
    /** The component schemas `value` refers to, and those they refer to in turn. */
    const referred = (value: unknown, into: Set<string>): Set<string> => {
      for (const [, name] of JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
        if (name && !into.has(name)) referred(doc.components.schemas[name], into.add(name));
      }
      return into;
    };
    const inputs = [
      ...referred(
        operations.map((op) => op.requestBody),
        new Set(),
      ),
    ];
    expect(inputs).toEqual(
      expect.arrayContaining(['AppCreate', 'HealthCheck', 'ScalingSchedule', 'PlanLimits']),
    );
    const undescribed = inputs.flatMap((name) =>
      Object.entries(doc.components.schemas[name]?.properties ?? {})
        .filter(([, field]) => !('description' in field) && !('$ref' in field))
        .map(([field]) => `${name}.${field}`),
    );
    expect(undescribed).toEqual([]);
  });

  it('documents every route of API.md that exists so far', () => {
    expect(operations.map((op) => op.route)).toEqual(
      expect.arrayContaining([
        'GET /v1/plans',
        'POST /v1/plans',
        'PATCH /v1/plans/{planId}',
        'POST /v1/tenants',
        'GET /v1/tenants',
        'GET /v1/tenants/{tenantId}',
        'PATCH /v1/tenants/{tenantId}',
        'DELETE /v1/tenants/{tenantId}',
        'POST /v1/tenants/{tenantId}/keys',
        'GET /v1/tenants/{tenantId}/keys',
        'DELETE /v1/tenants/{tenantId}/keys/{keyId}',
        'GET /v1/tenant',
        'POST /v1/apps',
        'GET /v1/apps',
        'GET /v1/apps/{app}',
        'PATCH /v1/apps/{app}',
        'DELETE /v1/apps/{app}',
        'POST /v1/apps/{app}/deployments',
        'GET /v1/apps/{app}/deployments',
        'GET /v1/apps/{app}/deployments/{id}',
        'POST /v1/apps/{app}/rollback',
        'GET /v1/apps/{app}/revisions',
        'GET /v1/apps/{app}/revisions/{n}',
        'POST /v1/apps/{app}/scale',
      ]),
    );
  });
});
