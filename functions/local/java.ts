import { spawnSync } from 'node:child_process';
import { installOrExplain } from './system-packages.ts';

const MIN_JAVA = 17;

/**
 * The Java on the PATH, from its module list: its major version, and whether it has the jdk.compiler module, with
 * which it runs a program from its source (DynamoDB Local's launcher). Undefined without one, or with one older than
 * Java 9, which lists no modules.
 */
function javaOnPath(): { version: number; compiles: boolean } | undefined {
  const out = spawnSync('java', ['--list-modules'], { encoding: 'utf8' });
  const version = out.status === 0 ? /^java\.base@(\d+)/m.exec(out.stdout)?.[1] : undefined;
  return version ? { version: Number(version), compiles: /^jdk\.compiler@/m.test(out.stdout) } : undefined;
}

/**
 * Makes sure Java ≥ 17 runs DynamoDB Local through its launcher (LoopbackDynamoDbLocal.java): installs it as root on
 * Debian, else says what to install.
 */
export function ensureJava(): void {
  const java = javaOnPath();
  if (java && java.version >= MIN_JAVA) {
    if (java.compiles) return;
    throw new Error(
      `The Java ${java.version} on the PATH lacks the jdk.compiler module, which runs DynamoDB Local's launcher from its source. Install a JDK ${MIN_JAVA}+ or a full runtime (e.g. "apt-get install openjdk-17-jre-headless" on Debian or "dnf install java-21-openjdk-devel" on Fedora), or point BERTH_DYNAMODB_ENDPOINT at a running DynamoDB.`,
    );
  }
  installOrExplain(
    ['openjdk-17-jre-headless'],
    `Java ${MIN_JAVA}+ (for DynamoDB Local)`,
    `Install a Java ${MIN_JAVA}+ runtime, e.g. "apt-get install openjdk-17-jre-headless" on Debian or "dnf install java-21-openjdk-devel" on Fedora, or point BERTH_DYNAMODB_ENDPOINT at a running DynamoDB.`,
  );
}
