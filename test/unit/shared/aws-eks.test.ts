import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../../functions/core/apps.ts';
import { createTenant } from '../../../functions/core/tenants.ts';
import { awsMeterDeps, awsReconcileDeps, awsScaleDeps } from '../../../functions/shared/aws.ts';
import { readAwsRuntimeConfig } from '../../../functions/shared/aws-config.ts';
import { eksRuntimeOf } from '../../../functions/shared/aws-eks-runtime.ts';
import { startFakeKubeApi } from '../../fakes/fake-kube-api.ts';
import { stubLambdaCredentials } from '../../support/aws-fixtures.ts';
import { eksWorld } from '../../support/eks-world.ts';
import { EKS_LAMBDA_ENV } from '../../support/lambda-fixtures.ts';

const eks = mockClient(EKSClient);
const ecs = mockClient(ECSClient);

describe("an install's EKS cluster, as its compositions make it", () => {
  let api: Awaited<ReturnType<typeof startFakeKubeApi>>;
  beforeEach(async () => {
    api = await startFakeKubeApi();
    stubLambdaCredentials();
    eks.on(DescribeClusterCommand, { name: 'corp-apps' }).resolves(api.describedAs('corp-apps', 'vpc-corp'));
  });
  afterEach(async () => {
    eks.reset();
    ecs.reset();
    vi.unstubAllEnvs();
    await api.close();
  });

  /** Tenant acme's app web (0.25 vCPU, 512 MiB) on EKS, its pod running. */
  async function webOnEks() {
    const { deps, reconciler } = await eksWorld(api);
    await createTenant(deps, { id: 'acme', name: 'Acme', plan: 'pro' });
    const web = { name: 'web', image: 'registry.example.com/acme/web:1', cpu: 0.25, memory: 512, port: 8080 };
    await createApp(deps, 'acme', { ...web, runtime: 'eks' });
    await reconciler.reconcileTenant('acme');
  }

  /** The Lambdas' configuration of an install offering EKS on the cluster corp-apps. */
  const eksConfig = (env: Record<string, string> = {}) => readAwsRuntimeConfig({ ...EKS_LAMBDA_ENV, ...env });

  // 0.25 vCPU and 512 MiB asked: EKS on Fargate provisions, and bills, the next size above 512 + 256 MiB.
  it.each([
    ['true', 'the Fargate size EKS provisions', 1024],
    ['false', 'what they ask, on nodes of the cluster', 512],
  ])('with BERTH_EKS_FARGATE=%s, tells its pods at %s', async (fargate, _what, memoryMiB) => {
    await webOnEks();
    const runtime = await eksRuntimeOf(eksConfig({ BERTH_EKS_FARGATE: fargate }));
    const replicas = await runtime?.listReplicas({ tenantId: 'acme' });
    expect(replicas?.map((r) => [r.app, r.cpu, r.memoryMiB])).toEqual([['web', 0.25, memoryMiB]]);
  });

  it("reconciles and autoscales the cluster's apps as well as Fargate's", async () => {
    await webOnEks();
    const logger = { error: () => {} };
    const { workloads } = await awsReconcileDeps(eksConfig(), logger);
    expect(Object.keys(workloads).sort()).toEqual(['eks', 'fargate']);
    const { views } = await awsScaleDeps(eksConfig(), logger);
    const pods = await views.eks?.runtime.listReplicas({ tenantId: 'acme' });
    expect(pods?.map((r) => r.app)).toEqual(['web']);
  });

  it("meters the cluster's pods as well as ECS's tasks", async () => {
    await webOnEks();
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const { runtime } = await awsMeterDeps(eksConfig(), { error: () => {} });
    expect((await runtime.listReplicas()).map((r) => [r.tenantId, r.app])).toEqual([['acme', 'web']]);
    expect(ecs).toHaveReceivedCommand(ListTasksCommand);
  });
});
