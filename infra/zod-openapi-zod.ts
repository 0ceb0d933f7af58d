import { ZodType } from 'zod';

/** All @hono/zod-openapi uses of the `z` it imports, in the Lambda bundles: see handler-bundling.ts. */
export const z = { ZodType };
