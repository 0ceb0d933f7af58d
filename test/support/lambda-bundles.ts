import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';

export interface LambdaBundle {
  /** The function's logical id in its stack. */
  id: string;
  /** The handler's module, `index.mjs`, beside the chunks it imports. */
  file: string;
  /** Every file of the bundle. */
  files: string[];
  bytes: number;
  /** What a cold start loads: index.mjs and the chunks it imports statically, transitively. */
  startupBytes: number;
  /** The AWS SDK clients bundled in, by service id (each client's runtime config names it). */
  clients: string[];
  /** The SDK clients a cold start loads; the others come in chunks imported on first use. */
  startupClients: string[];
}

/** A Lambda's name in its stack: its logical id without the construct's `Function` and hash. */
export const lambdaName = (logicalId: string) => logicalId.replace(/Function[0-9A-F]{8}$/, '');

/** The service ids of the AWS SDK clients in a bundle. */
function sdkClientsIn(code: string): string[] {
  const ids = [...code.matchAll(/serviceId:[\w$]+\?\.serviceId\?\?"([^"]+)"/g)].map((m) => m[1] ?? '');
  return [...new Set(ids)].sort();
}

/** Relative static imports and re-exports of an ESM file as esbuild writes them; `import("…")` is not one. */
const STATIC_IMPORT = /(?:import|export)\s*(?:[\w$*{}\s,]*?from\s*)?"\.\/([^"]+\.mjs)"/g;

/** index.mjs and every chunk it imports statically, transitively: what a cold start loads. */
export function startupFiles(dir: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(STATIC_IMPORT)) visit(m[1] ?? '');
  };
  visit('index.mjs');
  return [...seen];
}

/** The size of `names` in the bundle at `dir`, in bytes. */
export const bytesOf = (dir: string, names: string[]) =>
  names.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);

/** The code of `names` in the bundle at `dir`, joined. */
export const codeIn = (dir: string, names: string[]) =>
  names.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');

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
        const dir = join(assembly.directory, `asset.${hash}`);
        const files = readdirSync(dir).sort();
        const startup = startupFiles(dir);
        return {
          id,
          file: join(dir, 'index.mjs'),
          files,
          bytes: bytesOf(dir, files),
          startupBytes: bytesOf(dir, startup),
          clients: sdkClientsIn(codeIn(dir, files)),
          startupClients: sdkClientsIn(codeIn(dir, startup)),
        };
      })
  );
}
