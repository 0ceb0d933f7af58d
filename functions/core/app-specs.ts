import type { AppPatch, RevisionSpec } from '../../schemas/app.ts';
import { HealthCheck } from '../../schemas/app.ts';
import { fargateSizeProblem, offeredSizeProblem } from '../../schemas/fargate-sizes.ts';
import { ValidationError } from './errors.ts';
import type { CoreDeps } from './ports.ts';

type SpecInput = Pick<
  AppPatch,
  'image' | 'cpu' | 'memory' | 'port' | 'command' | 'env' | 'healthCheck' | 'runtime'
>;

/**
 * Merges spec changes onto the current spec (or onto nothing, for a new app) and checks the result as a whole:
 * a Fargate size this install offers, a runtime it offers (the app's own once it has one), and an env whose PORT, if
 * it sets one, is the app's port. `null` clears an optional field; env is replaced whole.
 */
export function resolveSpec(
  deps: CoreDeps,
  current: RevisionSpec | undefined,
  input: SpecInput,
): RevisionSpec {
  const image = input.image ?? current?.image;
  const cpu = input.cpu ?? current?.cpu;
  const memory = input.memory ?? current?.memory;
  const port = input.port ?? current?.port;
  if (image === undefined || cpu === undefined || memory === undefined || port === undefined) {
    throw new ValidationError('image, cpu, memory and port are required');
  }
  const sizeProblem = fargateSizeProblem(cpu, memory);
  if (sizeProblem) throw new ValidationError(sizeProblem, [{ path: 'memory', message: sizeProblem }]);
  const notOffered = deps.sizes && offeredSizeProblem(deps.sizes, cpu, memory);
  if (notOffered) throw new ValidationError(notOffered.message, [notOffered]);
  const runtime = input.runtime ?? current?.runtime ?? deps.runtimes[0];
  if (!deps.runtimes.includes(runtime)) {
    const message = `runtime "${runtime}" is not offered by this install; use one of ${deps.runtimes.join(', ')}`;
    throw new ValidationError(message, [{ path: 'runtime', message }]);
  }
  if (current && runtime !== current.runtime) {
    // Each runtime's reconciler sees only the apps on it: one that moved would leave its old workload running.
    const message = `runtime cannot change: the app runs on ${current.runtime}; create another app to run on ${runtime}`;
    throw new ValidationError(message, [{ path: 'runtime', message }]);
  }
  const env = input.env === undefined ? (current?.env ?? {}) : (input.env ?? {});
  if (env.PORT !== undefined && env.PORT !== String(port)) {
    // Replicas are given PORT=<port>; an app listening on another would fail every health check.
    const message = `env.PORT "${env.PORT}" is not the app's port ${port}, where requests and health checks go; change port instead, or leave PORT out (replicas get PORT=${port})`;
    throw new ValidationError(message, [{ path: 'env.PORT', message }]);
  }
  const healthCheck = input.healthCheck === undefined ? (current?.healthCheck ?? null) : input.healthCheck;
  return {
    image,
    cpu,
    memory,
    port,
    command: input.command === undefined ? (current?.command ?? null) : input.command,
    env,
    healthCheck: healthCheck && HealthCheck.parse(healthCheck),
    runtime,
  };
}
