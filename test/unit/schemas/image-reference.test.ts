import { describe, expect, it } from 'vitest';
import { parseImageReference } from '../../../schemas/image-reference.ts';

describe('parseImageReference', () => {
  it('splits registry, repository, tag and digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImageReference(`127.0.0.1:5000/acme/web:1.2@${digest}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'acme/web',
      tag: '1.2',
      digest,
    });
  });

  it('treats a first component without a dot, colon or localhost as part of the repository', () => {
    expect(parseImageReference('library/busybox')).toMatchObject({
      registry: undefined,
      repository: 'library/busybox',
    });
    expect(parseImageReference('localhost/web')).toMatchObject({ registry: 'localhost', repository: 'web' });
  });

  it.each([
    'UPPER/case',
    'web:',
    'web:-bad',
    '../etc/passwd',
    'a//b',
    'web@sha256:abc',
    'web; rm -rf /',
    '$(reboot)',
    `${'a'.repeat(300)}`,
    '',
  ])('rejects %j', (ref) => {
    expect(parseImageReference(ref)).toBeUndefined();
  });
});
