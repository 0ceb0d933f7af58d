import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { RecentAnswers } from '../../../functions/core/recent-answers.ts';
import { awsApiDeps } from '../../../functions/shared/aws-api.ts';
import { readAwsRuntimeConfig } from '../../../functions/shared/aws-config.ts';
import { LAMBDA_ENV } from '../../support/lambda-fixtures.ts';

describe("the API Lambda's composition root", () => {
  it("keeps an app's instances for a moment, where reading them spends the account's shared ECS quota", async () => {
    const deps = await awsApiDeps(
      readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_TABLE_NAME: 'berth' }),
      {
        error: () => {},
      },
      { record: () => {} },
    );
    expect(deps.recentInstances).toBeInstanceOf(RecentAnswers);
    expect(deps.bufferedAnswers).toEqual({ waitMs: 20_000, maxBodyBytes: 5 * 1024 * 1024 });
  });

  it("counts a tenant's requests in the table, where every Lambda instance serves the API, not per instance", async () => {
    const deps = await awsApiDeps(
      readAwsRuntimeConfig({
        ...LAMBDA_ENV,
        BERTH_TABLE_NAME: 'berth',
        BERTH_RATE_LIMIT_PER_SECOND: '20',
        BERTH_RATE_LIMIT_BURST: '80',
      }),
      { error: () => {} },
      { record: () => {} },
    );
    expect(deps.rateLimit).toEqual({ ratePerSecond: 20, burst: 80, shared: true });
  });

  it('refuses images built for neither linux/amd64 nor linux/arm64 on ECS, and not for linux/amd64 on EKS on Fargate', async () => {
    const platformsWith = async (env: Record<string, string>) =>
      (
        await awsApiDeps(
          readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_TABLE_NAME: 'berth', ...env }),
          {
            error: () => {},
          },
          { record: () => {} },
        )
      ).platforms;
    const eks = {
      BERTH_RUNTIMES: 'fargate,eks',
      BERTH_EKS_CLUSTER: 'apps',
      BERTH_HOSTED_ZONE_ID: 'Z123',
      BERTH_EKS_LOAD_BALANCER_CIDRS: '10.0.0.0/16',
    };
    const ecs = ['linux/amd64', 'linux/arm64'];
    expect(await platformsWith({})).toEqual({ fargate: ecs });
    expect(await platformsWith(eks)).toEqual({ fargate: ecs, eks: ['linux/amd64'] });
    // Nodes of its own run what they are.
    expect(await platformsWith({ ...eks, BERTH_EKS_FARGATE: 'false' })).toEqual({ fargate: ecs });
  });

  it('nudges the reconcile queue after a write that changes an app, before the Lambda returns', async () => {
    const sqs = mockClient(SQSClient).on(SendMessageCommand).resolves({});
    try {
      const deps = await awsApiDeps(
        readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_TABLE_NAME: 'berth' }),
        {
          error: () => {},
        },
        { record: () => {} },
      );
      const spec = {
        image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/berth/acme/web@sha256:abc',
        cpu: 0.25,
        memory: 512,
        port: 8080,
        command: null,
        env: {},
        healthCheck: null,
        runtime: 'fargate' as const,
      };
      deps.appChanged?.({ tenantId: 'acme', name: 'web', spec });
      await deps.queue.flush();
      expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
        QueueUrl: LAMBDA_ENV.BERTH_RECONCILE_QUEUE_URL,
        MessageBody: '{"tenantId":"acme","runtime":"fargate"}',
      });
    } finally {
      sqs.restore();
    }
  });
});
