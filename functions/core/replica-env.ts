import type { WorkloadSpec } from './ports.ts';

/**
 * A replica's environment, the same on every runtime: the app's env, `PORT` (the app's port) and the platform's
 * `BERTH_APP` and `BERTH_REVISION` (an app's env cannot name `BERTH_…`). Nothing a runtime alone could give: an app
 * that came to read it locally would miss it on AWS.
 */
export function replicaEnv(
  spec: Pick<WorkloadSpec, 'app' | 'revision' | 'port' | 'env'>,
): Record<string, string> {
  return {
    PORT: String(spec.port),
    ...spec.env,
    BERTH_APP: spec.app,
    BERTH_REVISION: String(spec.revision),
  };
}
