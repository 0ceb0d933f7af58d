import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ensureJava } from '../../../functions/local/java.ts';
import { executablesFirstOnPath } from '../../support/fake-executables.ts';

/** Puts first on the PATH a Java 17 `java` that lists `modules`. */
function javaListing(modules: string[]): () => void {
  const listing = modules.map((m) => `echo '${m}@17.0.15'`).join('; ');
  const dir = executablesFirstOnPath({ java: `[ "$1" = --list-modules ] && { ${listing}; }` });
  return () => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  };
}

describe('the Java that runs DynamoDB Local', () => {
  let restore = () => {};
  afterEach(() => restore());

  it('is taken when it can run the launcher from its source', () => {
    restore = javaListing(['java.base', 'jdk.compiler']);
    expect(() => ensureJava()).not.toThrow();
  });

  it('is refused, naming what to install, when it lacks the compiler module (a jlinked runtime)', () => {
    restore = javaListing(['java.base', 'java.sql']);
    expect(() => ensureJava()).toThrow(
      /^The Java 17 on the PATH lacks the jdk\.compiler module, which runs DynamoDB Local's launcher from its source\. Install a JDK 17\+/,
    );
  });
});
