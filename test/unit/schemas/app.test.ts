import { describe, expect, it } from 'vitest';
import { AppCreate, AppPatch } from '../../../schemas/app.ts';

const app = { name: 'web', image: 'nginx:1.27', port: 8080, cpu: 0.25, memory: 512 };

/** Each issue as `path: message`. */
const problems = async (
  result: Promise<{ error?: { issues: { path: PropertyKey[]; message: string }[] } }>,
) => ((await result).error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`);

describe('app schemas: checks across fields', () => {
  it('say nothing of a comparison with a field that is wrong on its own: that field gets its one error', async () => {
    for (const [body, only] of [
      [{ ...app, cpu: 0.3 }, 'cpu'],
      [{ ...app, memory: 0 }, 'memory'],
      [{ ...app, healthCheck: { intervalSeconds: 0 } }, 'healthCheck.intervalSeconds'],
      [{ ...app, healthCheck: 'often' }, 'healthCheck'],
      [{ ...app, scaling: [] }, 'scaling'],
      [{ ...app, scaling: { min: 3, max: 0 } }, 'scaling.max'],
      [
        { ...app, scaling: { min: 0, max: 2, schedules: [{ cron: '0 8 * * *', min: 5, max: -1 }] } },
        'scaling.schedules.0.max',
      ],
    ] as const) {
      const found = await problems(AppCreate.safeParseAsync(body));
      expect(
        found.map((p) => p.split(':')[0]),
        JSON.stringify(body),
      ).toEqual([only]);
    }
  });

  it('take a schedule that scales an app to zero (max 0 with min 0), as a scheduled action on AWS does', async () => {
    const night = (min: number) => ({
      ...app,
      scaling: { min: 1, max: 2, schedules: [{ cron: '0 20 * * *', min, max: 0 }] },
    });
    expect((await AppCreate.safeParseAsync(night(0))).success).toBe(true);
    expect(await problems(AppCreate.safeParseAsync(night(1)))).toEqual([
      'scaling.schedules.0.min: min may not exceed max',
    ]);
  });

  it('still compare fields that are valid each on its own', async () => {
    expect(await problems(AppCreate.safeParseAsync({ ...app, memory: 4096 }))).toEqual([
      'memory: memory 4096 MiB is not valid with cpu 0.25; valid values: 512, 1024, 2048',
    ]);
    expect(await problems(AppPatch.safeParseAsync({ scaling: { min: 3, max: 2 } }))).toEqual([
      'scaling.min: min may not exceed max',
    ]);
    expect(
      await problems(
        AppCreate.safeParseAsync({ ...app, healthCheck: { intervalSeconds: 5, timeoutSeconds: 6 } }),
      ),
    ).toEqual(['healthCheck.timeoutSeconds: timeoutSeconds may not exceed intervalSeconds']);
    // An unknown field is an error of its own, which does not keep the comparisons quiet.
    expect(await problems(AppCreate.safeParseAsync({ ...app, memory: 4096, replica: 2 }))).toEqual([
      ': Unrecognized key: "replica"',
      'memory: memory 4096 MiB is not valid with cpu 0.25; valid values: 512, 1024, 2048',
    ]);
  });
});
