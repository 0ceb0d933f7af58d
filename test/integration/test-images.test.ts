import { spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { buildTestImage } from '../support/test-image.ts';

const TAG = 'berth-test/remade:1';
const imageId = (name: string) =>
  spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', name], { encoding: 'utf8' }).stdout.trim();

afterAll(() => {
  spawnSync('docker', ['image', 'rm', TAG], { stdio: 'ignore' });
});

it('removes the image a test image replaces, so test runs leave no untagged images behind', () => {
  buildTestImage(TAG);
  const first = imageId(TAG);
  buildTestImage(TAG);
  const second = imageId(TAG);
  expect(second).toMatch(/^sha256:/);
  expect(second).not.toBe(first);
  expect(imageId(first)).toBe('');
});
