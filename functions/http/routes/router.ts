import { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../context.ts';
import { validationHook } from '../validation.ts';

/** A sub-app whose validation failures become 400 problems. */
export const router = () => new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
