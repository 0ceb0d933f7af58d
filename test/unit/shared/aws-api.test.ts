import { describe, expect, it } from 'vitest';
import { RecentAnswers } from '../../../functions/core/recent-answers.ts';
import { awsApiDeps } from '../../../functions/shared/aws-api.ts';
import { readAwsRuntimeConfig } from '../../../functions/shared/aws-config.ts';
import { LAMBDA_ENV } from '../../support/lambda-fixtures.ts';

describe("the API Lambda's composition root", () => {
  it("keeps an app's instances for a moment, where reading them spends the account's shared ECS quota", async () => {
    const deps = await awsApiDeps(readAwsRuntimeConfig({ ...LAMBDA_ENV, BERTH_TABLE_NAME: 'berth' }), {
      error: () => {},
    });
    expect(deps.recentInstances).toBeInstanceOf(RecentAnswers);
    expect(deps.bufferedAnswers).toEqual({ waitMs: 20_000, maxBodyBytes: 5 * 1024 * 1024 });
  });
});
