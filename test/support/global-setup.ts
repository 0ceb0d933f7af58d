import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureDockerEngine } from '../../functions/local/docker-engine.ts';
import { type DynamoDbLocalAddress, startDynamoDbLocal } from '../../functions/local/dynamodb-local.ts';
import { ensureOpenssl } from '../../functions/local/openssl.ts';
import { ownTmpdir } from './own-tmpdir.ts';
import { buildTestImage } from './test-image.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's DynamoDB Local, in memory: every access key shares its one database. */
    dynamodb: DynamoDbLocalAddress;
    testImage: string;
  }
}

/**
 * The real local parts for the whole run: one DynamoDB Local (each test file makes its own table), a Docker
 * Engine and the offline test image. A missing part fails the run with a message naming what to install; as root
 * on Debian it is installed. Nothing is skipped.
 */
export default async function setup(project: TestProject) {
  // A dockerd started here outlives the run, and so does its log.
  await ensureDockerEngine(join(tmpdir(), 'berth-test-dockerd'));
  // The registry's token keys and the fake Kubernetes API's certificate are made with it.
  ensureOpenssl();
  // The test files and the processes they start find the run's own directory as TMPDIR; it goes at the end.
  const removeRunDir = ownTmpdir('berth-test-run-');
  project.provide('testImage', buildTestImage());
  const dynamodb = await startDynamoDbLocal();
  project.provide('dynamodb', { endpoint: dynamodb.endpoint, accessKeyId: dynamodb.accessKeyId });
  return async () => {
    await dynamodb.stop();
    removeRunDir();
  };
}
