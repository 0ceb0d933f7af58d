import { describe, expect, it } from 'vitest';
import { containerOptions } from '../../../functions/adapters/docker/runtime.ts';
import { appManifests } from '../../../functions/adapters/eks/manifests.ts';
import { taskDefinitionInput } from '../../../functions/adapters/fargate/task-requests.ts';
import type { WorkloadSpec } from '../../../functions/core/ports.ts';
import { FARGATE_SETTINGS } from '../../support/aws-fixtures.ts';
import { WEB_REPLICA } from '../../support/replica-spec.ts';

const replica = { ...WEB_REPLICA, revision: 3, env: { LOG_LEVEL: 'info' } };
const workload: WorkloadSpec = { ...replica, replicas: 2, healthCheck: null, restartedAt: null };

const named = (pairs: { name?: string; value?: string }[]) =>
  Object.fromEntries(pairs.map(({ name, value }) => [name, value]));

/** The environment each runtime gives a replica of the same revision, by runtime. */
function environments() {
  const docker = containerOptions(replica, 'berth', 'n1').Env ?? [];
  const fargate = taskDefinitionInput(workload, FARGATE_SETTINGS).containerDefinitions?.[0]?.environment;
  const [deployment] = appManifests(
    workload,
    'berth-acme',
    { balancer: { group: 'g', idleTimeoutSeconds: 60 }, host: 'h' },
    { fargate: true },
  ) as unknown as {
    spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
  }[];
  return {
    docker: Object.fromEntries(
      docker.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    ),
    fargate: named(fargate ?? []),
    eks: named(deployment?.spec.template.spec.containers[0]?.env ?? []),
  };
}

describe("a replica's environment", () => {
  it('is the same on every runtime: the app env, PORT, BERTH_APP and BERTH_REVISION, and nothing else', () => {
    const env = { PORT: '8080', LOG_LEVEL: 'info', BERTH_APP: 'web', BERTH_REVISION: '3' };
    expect(environments()).toEqual({ docker: env, fargate: env, eks: env });
  });
});
