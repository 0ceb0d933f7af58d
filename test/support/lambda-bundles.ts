import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';

export interface LambdaBundle {
  /** The function's logical id in its stack. */
  id: string;
  file: string;
  bytes: number;
  /** The AWS SDK clients bundled in, by service id (each client's runtime config names it). */
  clients: string[];
}

/**
 * Clients the SDK's default credential chain brings into every bundle (SSO, web identity, sign-in); Lambdas take
 * their credentials from the environment, so these are never called.
 */
export const CREDENTIAL_CHAIN_CLIENTS = new Set(['SSO', 'SSO OIDC', 'STS', 'Signin']);

/** The service ids of the AWS SDK clients in a bundle. */
export function sdkClientsIn(code: string): string[] {
  const ids = [...code.matchAll(/serviceId:[\w$]+\?\.serviceId\?\?"([^"]+)"/g)].map((m) => m[1] ?? '');
  return [...new Set(ids)].sort();
}

/** Every Lambda of a synthesized stack with its bundle: size and the SDK clients inside. */
export function lambdaBundles(assembly: CloudAssembly, stackName: string): LambdaBundle[] {
  const stack = assembly.getStackByName(stackName);
  const resources = (
    stack.template as {
      Resources: Record<
        string,
        {
          Type: string;
          Properties: { Code?: { S3Key?: string }; Handler?: string; Architectures?: string[] };
        }
      >;
    }
  ).Resources;
  return (
    Object.entries(resources)
      // Berth's own: arm64 (the custom resource handlers aws-cdk-lib adds are not).
      .filter(
        ([, r]) =>
          r.Type === 'AWS::Lambda::Function' &&
          r.Properties.Handler === 'index.handler' &&
          r.Properties.Architectures?.includes('arm64'),
      )
      .map(([id, r]) => {
        const hash = r.Properties.Code?.S3Key?.replace(/\.zip$/, '');
        const file = join(assembly.directory, `asset.${hash}`, 'index.mjs');
        return { id, file, bytes: statSync(file).size, clients: sdkClientsIn(readFileSync(file, 'utf8')) };
      })
  );
}
