import { describe, expect, it } from 'vitest';
import { checkImageSource } from '../../../functions/core/images.ts';

const local = { host: '127.0.0.1:5000', namespaceOf: (tenantId: string) => `${tenantId}/` };
const ecr = {
  host: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
  namespaceOf: (tenantId: string) => `berth/${tenantId}/`,
};

describe('checkImageSource', () => {
  it('knows an ECR registry’s per-tenant namespace', () => {
    const uri = `${ecr.host}/berth/acme/web:1`;
    expect(checkImageSource(uri, 'acme', ecr)).toMatchObject({ local: true, repository: 'berth/acme/web' });
    expect(() => checkImageSource(`${ecr.host}/berth/beta/web:1`, 'acme', ecr)).toThrow(
      'not under your namespace',
    );
    expect(() => checkImageSource(`${ecr.host}/acme/web:1`, 'acme', ecr)).toThrow('not under your namespace');
  });

  it("holds every name of the account's ECR to the tenant's namespace: FIPS, dual-stack, another region, a port", () => {
    const aliases = [
      '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com',
      '123456789012.dkr-ecr.us-east-1.on.aws',
      '123456789012.dkr-ecr-fips.us-east-1.on.aws',
      '123456789012.dkr.ecr.us-west-2.amazonaws.com',
      '123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM:443',
    ];
    for (const host of aliases) {
      expect(() => checkImageSource(`${host}/berth/beta/web:1`, 'acme', ecr)).toThrow(
        'not under your namespace',
      );
      expect(checkImageSource(`${host}/berth/acme/web:1`, 'acme', ecr)).toMatchObject({ local: true });
    }
    // Another account's ECR is another registry, as any other by DNS name.
    expect(
      checkImageSource('210987654321.dkr.ecr.us-east-1.amazonaws.com/berth/beta/web:1', 'acme', ecr),
    ).toMatchObject({ local: false });
  });

  it('accepts the tenant’s own repositories in the platform registry', () => {
    expect(checkImageSource('127.0.0.1:5000/acme/web:1', 'acme', local)).toMatchObject({
      local: true,
      repository: 'acme/web',
    });
    expect(checkImageSource('localhost:5000/acme/web:1', 'acme', local)).toMatchObject({ local: true });
  });

  it('accepts public registries by DNS name and Docker Hub short names', () => {
    expect(checkImageSource('ghcr.io/org/app:1', 'acme', local)).toMatchObject({ local: false });
    expect(checkImageSource('busybox', 'acme', local)).toMatchObject({ local: false, registry: undefined });
  });

  it.each([
    ['127.0.0.1:5000/other/web:1', 'not under your namespace'],
    ['169.254.169.254/latest/meta-data:1', 'by IP address'],
    ['169.254.169.254:80/x/y', 'by IP address'],
    ['10.0.0.1:5000/acme/web', 'by IP address'],
    ['192.168.1.10/acme/web', 'by IP address'],
    ['127.0.0.1:6000/acme/web', 'by IP address'],
    ['127.0.0.1/acme/web', 'by IP address'],
    ['[::1]:5000/acme/web', 'by IP address'],
    // Shorthand IPv4 forms the system resolver reads as addresses (10.1 is 10.0.0.1), though no DNS name ends in
    // a number.
    ['10.1:5000/acme/web', 'by IP address'],
    ['127.1/acme/web', 'by IP address'],
    ['0x7f.1/acme/web', 'by IP address'],
    ['0177.0.0.1/acme/web', 'by IP address'],
    ['localhost:8080/acme/web', 'internal registry host'],
    ['registry:5000/acme/web', 'internal registry host'],
    ['metadata.google.internal/x/y', 'internal registry host'],
    ['web.acme.localhost:8000/a/b', 'internal registry host'],
    ['nas.local/a/b', 'internal registry host'],
  ])('refuses %s', (image, message) => {
    expect(() => checkImageSource(image, 'acme', local)).toThrow(message);
  });

  it('refuses what is no image reference at all', () => {
    expect(() => checkImageSource('$(curl evil)', 'acme', local)).toThrow('not an OCI image reference');
  });
});
