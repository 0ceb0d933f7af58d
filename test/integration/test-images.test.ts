import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { buildTestImage, imageIdOf } from '../support/test-image.ts';

const TAG = 'berth-test/remade:1';

afterAll(() => {
  spawnSync('docker', ['image', 'rm', TAG], { stdio: 'ignore' });
});

it('removes the image a test image replaces, so test runs leave no untagged images behind', () => {
  buildTestImage(TAG);
  const first = imageIdOf(TAG);
  expect(first).toMatch(/^sha256:/);
  buildTestImage(TAG);
  const second = imageIdOf(TAG);
  expect(second).toMatch(/^sha256:/);
  expect(second).not.toBe(first);
  expect(imageIdOf(String(first))).toBeUndefined();
});
