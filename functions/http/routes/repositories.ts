import * as z from 'zod';
import { DnsLabel, ListQuery, pageOf } from '../../../schemas/common.ts';
import { Image, RegistryLogin, Repository, RepositoryCreate } from '../../../schemas/repository.ts';
import {
  createRepository,
  deleteRepository,
  listImages,
  listRepositories,
  registryLogin,
} from '../../core/repositories.ts';
import { MAX_REPOSITORIES_PER_TENANT } from '../../core/tenant-caps.ts';
import { type ApiDeps, tenantOf } from '../context.ts';
import { apiRoute, bearer, idempotencyHeader, json, jsonBody, noFields } from '../openapi.ts';
import { tenantOnly } from './apps.ts';
import { router } from './router.ts';

const RepositoryParams = z.object({
  name: DnsLabel.meta({ description: "The repository's name.", example: 'web' }),
});
const tags = ['Images'];

export function repositoryRoutes(deps: ApiDeps) {
  return router()
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/registry/token',
        operationId: 'createRegistryToken',
        summary: 'Get short-lived docker login credentials for your repositories',
        description:
          'A username and password for `docker login` to the platform registry, which push and pull' +
          ' only your own repositories. `expiresAt` says when to ask again. 403 `tenant.suspended` ' +
          'while your tenant is suspended.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { headers: idempotencyHeader, body: noFields },
        responses: { 200: json(RegistryLogin, 'Short-lived credentials for `docker login`.') },
      }),
      async (c) => c.json(await registryLogin(deps, tenantOf(c.get('principal'))), 200),
    )
    .openapi(
      apiRoute({
        method: 'post',
        path: '/v1/repositories',
        operationId: 'createRepository',
        summary: 'Create a repository to push images to',
        description:
          'Create a repository before its first `docker push`: a push to one that does not exist is' +
          ' refused, as on ECR. `uri` is what to tag images with. 409 `repository.exists`; 403 ' +
          '`quota.exceeded` beyond 100.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { headers: idempotencyHeader, body: jsonBody(RepositoryCreate) },
        responses: {
          201: json(
            Repository,
            'The repository; `uri` is where `docker push` goes. A push goes only to a repository created here. ' +
              `A tenant keeps at most ${MAX_REPOSITORIES_PER_TENANT} (403 quota.exceeded).`,
          ),
        },
      }),
      async (c) =>
        c.json(await createRepository(deps, tenantOf(c.get('principal')), c.req.valid('json').name), 201),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/repositories',
        operationId: 'listRepositories',
        summary: 'List your repositories',
        description: 'Your repositories, by name, with the `uri` to push to.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { query: ListQuery },
        responses: {
          200: json(pageOf(Repository, 'RepositoryPage'), 'Your repositories, by name.'),
        },
      }),
      async (c) =>
        c.json(await listRepositories(deps, tenantOf(c.get('principal')), c.req.valid('query')), 200),
    )
    .openapi(
      apiRoute({
        method: 'get',
        path: '/v1/repositories/{name}/images',
        operationId: 'listImages',
        summary: "List a repository's images",
        description:
          "The repository's images, newest first, with their tags, digest, size and when they were " +
          'pushed.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: RepositoryParams, query: ListQuery },
        responses: { 200: json(pageOf(Image, 'ImagePage'), 'Pushed images, newest first.') },
      }),
      async (c) =>
        c.json(
          await listImages(
            deps,
            tenantOf(c.get('principal')),
            c.req.valid('param').name,
            c.req.valid('query'),
          ),
          200,
        ),
    )
    .openapi(
      apiRoute({
        method: 'delete',
        path: '/v1/repositories/{name}',
        operationId: 'deleteRepository',
        summary: 'Delete a repository and its images',
        description:
          'Deletes every image in it. 409 `repository.inUse` while an app runs, or is moving to, an' +
          ' image from it.',
        tags,
        security: bearer,
        middleware: tenantOnly,
        request: { params: RepositoryParams },
        responses: {
          204: { description: 'Deleted, with every image in it.' },
        },
      }),
      async (c) => {
        await deleteRepository(deps, tenantOf(c.get('principal')), c.req.valid('param').name);
        return c.body(null, 204);
      },
    );
}
