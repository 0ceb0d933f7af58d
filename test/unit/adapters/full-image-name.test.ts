import { describe, expect, it } from 'vitest';
import { fullImageName } from '../../../functions/adapters/oci/full-image-name.ts';

describe('fullImageName', () => {
  it('spells out Docker Hub, its library and the latest tag, as the engine would read them', () => {
    expect(fullImageName('nginx')).toBe('docker.io/library/nginx:latest');
    expect(fullImageName('nginx:1.27')).toBe('docker.io/library/nginx:1.27');
    expect(fullImageName('bitnami/redis')).toBe('docker.io/bitnami/redis:latest');
    expect(fullImageName('docker.io/nginx')).toBe('docker.io/library/nginx:latest');
    expect(fullImageName('index.docker.io/library/nginx:1')).toBe('docker.io/library/nginx:1');
  });

  it('leaves a named registry, a tag and a digest as they are, and adds no tag to a digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(fullImageName(`127.0.0.1:5000/acme/web@${digest}`)).toBe(`127.0.0.1:5000/acme/web@${digest}`);
    expect(fullImageName('localhost/web:2')).toBe('localhost/web:2');
    expect(fullImageName(`ghcr.io/acme/web:1@${digest}`)).toBe(`ghcr.io/acme/web:1@${digest}`);
    expect(fullImageName(`nginx@${digest}`)).toBe(`docker.io/library/nginx@${digest}`);
  });

  it('makes what the engine would take for an image id a name on Docker Hub', () => {
    expect(fullImageName('a9f399d67d0b')).toBe('docker.io/library/a9f399d67d0b:latest');
    expect(fullImageName('sha256:a9f399d67d0b')).toBe('docker.io/library/sha256:a9f399d67d0b');
  });

  it('refuses what is no reference', () => {
    expect(() => fullImageName('Not/An Image')).toThrow('"Not/An Image" is not an image reference');
  });
});
