import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../context.ts';

/**
 * Lets go of what a HEAD's answer holds. Hono answers a HEAD with its GET's answer less the body, a body it neither
 * reads nor cancels: a followed log's would hold its streams from the runtime, and its place among the tenant's
 * follows, for as long as the process lives (ten HEADs and the tenant could follow no log). Cancelled here, the body
 * gives them back at once.
 */
export const headBodiesCancelled = createMiddleware<ApiEnv>(async (c, next) => {
  await next();
  if (c.req.method === 'HEAD') await c.res.body?.cancel();
});
