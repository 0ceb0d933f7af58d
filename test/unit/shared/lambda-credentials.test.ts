import { afterEach, describe, expect, it } from 'vitest';
import { defaultProvider } from '../../../functions/shared/lambda-credentials.ts';

const VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
const saved = Object.fromEntries(VARS.map((name) => [name, process.env[name]]));

describe("the Lambdas' credential provider", () => {
  afterEach(() => {
    for (const name of VARS) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it("takes the role's credentials Lambda puts in the environment", async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    await expect(defaultProvider()()).resolves.toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    });
  });

  it('says so when there are none, or half of them, rather than looking anywhere else', async () => {
    for (const name of VARS) delete process.env[name];
    await expect(defaultProvider()()).rejects.toThrow(/environment/i);
    process.env.AWS_ACCESS_KEY_ID = 'ASIAEXAMPLE';
    await expect(defaultProvider()()).rejects.toThrow(/environment/i);
  });
});
