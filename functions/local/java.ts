import { spawnSync } from 'node:child_process';
import { canRun, installOrExplain } from './system-packages.ts';

const MIN_JAVA = 17;

function javaMajorVersion(): number | undefined {
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (out.status !== 0) return undefined;
  const match = /version "(\d+)/.exec(`${out.stderr}${out.stdout}`);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** Whether Java can run a program from its source, as DynamoDB Local's launcher is: its jdk.compiler module does. */
function javaCompiles(): boolean {
  const out = spawnSync('java', ['--list-modules'], { encoding: 'utf8' });
  return out.status === 0 && /^jdk\.compiler@/m.test(out.stdout);
}

/**
 * Makes sure Java ≥ 17 runs DynamoDB Local through its launcher (LoopbackDynamoDbLocal.java): installs it as root on
 * Debian, else says what to install.
 */
export function ensureJava(): void {
  const version = canRun('java', ['-version']) ? javaMajorVersion() : undefined;
  if (version !== undefined && version >= MIN_JAVA) {
    if (javaCompiles()) return;
    throw new Error(
      `The Java ${version} on the PATH lacks the jdk.compiler module, which runs DynamoDB Local's launcher from its source. Install a JDK ${MIN_JAVA}+ or a full runtime (e.g. "apt-get install openjdk-17-jre-headless" or "brew install openjdk@17"), or point BERTH_DYNAMODB_ENDPOINT at a running DynamoDB.`,
    );
  }
  installOrExplain(
    ['openjdk-17-jre-headless'],
    `Java ${MIN_JAVA}+ (for DynamoDB Local)`,
    `Install a Java ${MIN_JAVA}+ runtime, e.g. "apt-get install openjdk-17-jre-headless" or "brew install openjdk@17", or point BERTH_DYNAMODB_ENDPOINT at a running DynamoDB.`,
  );
}
