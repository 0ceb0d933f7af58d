import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureJava } from '../../../functions/local/java.ts';

/** Puts first on the PATH a Java 17 `java` that lists `modules`. */
function javaListing(modules: string[]): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fake-java-'));
  const java = join(dir, 'java');
  const listing = modules.map((m) => `echo '${m}@17.0.15'`).join('; ');
  writeFileSync(java, `#!/bin/sh\n[ "$1" = --list-modules ] && { ${listing}; }\n`);
  chmodSync(java, 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${dir}${delimiter}${path}`;
  return () => {
    process.env.PATH = path;
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
