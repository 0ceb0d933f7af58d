import { describe, expect, it } from 'vitest';
import {
  checkImageSource,
  platformPull,
  platformRegistryOf,
  resolveImage,
} from '../../../functions/core/images.ts';
import { isPublicAddress } from '../../../functions/core/public-address.ts';
import { fakeCoreDeps } from '../../fakes/core-deps.ts';

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
  ])('refuses %s, naming it and why', (image, why) => {
    const check = () => checkImageSource(image, 'acme', local);
    expect(check).toThrow(`image "${image}" `);
    expect(check).toThrow(why);
  });

  it('refuses what is no image reference at all', () => {
    expect(() => checkImageSource('$(curl evil)', 'acme', local)).toThrow('not an OCI image reference');
  });
});

describe('platformRegistryOf', () => {
  it('gives the name by which an image calls the platform registry, whichever of its names that is', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(platformRegistryOf(`127.0.0.1:5000/acme/web@${digest}`, local)).toBe('127.0.0.1:5000');
    expect(platformRegistryOf(`LocalHost:5000/acme/web@${digest}`, local)).toBe('localhost:5000');
    expect(platformRegistryOf(`localhost:5001/acme/web@${digest}`, local)).toBeUndefined();
    expect(platformRegistryOf('busybox', local)).toBeUndefined();
    expect(
      platformRegistryOf('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/berth/acme/web:1', ecr),
    ).toBe('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com');
  });

  it('takes the images of a registry moved to another port as its own, pulled from where it listens now', () => {
    // Its port taken by another program, the local registry was given 5001: revisions made before name 5000.
    const moved = { ...local, host: '127.0.0.1:5001', formerHosts: ['127.0.0.1:5000'] };
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(platformRegistryOf(`127.0.0.1:5000/acme/web@${digest}`, moved)).toBe('127.0.0.1:5000');
    expect(platformPull(`localhost:5000/acme/web@${digest}`, moved)).toBe(
      `127.0.0.1:5001/acme/web@${digest}`,
    );
    expect(platformPull(`127.0.0.1:5001/acme/web:1`, moved)).toBe('127.0.0.1:5001/acme/web:1');
    expect(platformPull('busybox', moved)).toBeUndefined();
    // A change of such an app (its image left as it was) is still the tenant's own image, not a loopback registry.
    expect(checkImageSource('127.0.0.1:5000/acme/web:1', 'acme', moved)).toMatchObject({ local: true });
    expect(() => checkImageSource('127.0.0.1:5000/other/web:1', 'acme', moved)).toThrow(
      /not under your namespace/,
    );
    // Any other port is still another program's.
    expect(() => checkImageSource('127.0.0.1:5002/acme/web:1', 'acme', moved)).toThrow(/by IP address/);
    expect(() => checkImageSource('127.0.0.1:5000/acme/web:1', 'acme', local)).not.toThrow();
    expect(() =>
      checkImageSource('127.0.0.1:5000/acme/web:1', 'acme', { ...local, host: '127.0.0.1:5001' }),
    ).toThrow(/by IP address/);
  });
});

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.31.0.2',
    '192.168.0.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '::1',
    '::',
    '::7f00:1',
    'fec0::1',
    'fd00:ec2::254',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a9fe:a9fe',
    '2002:a9fe:a9fe::1',
    '2001:db8::1',
  ])('knows %s is not on the public internet', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '140.82.112.34', '2606:4700::6810:84e5', '::ffff:8.8.8.8'])(
    'knows %s is',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('resolveImage of another registry', () => {
  const resolved = async (names: Record<string, string[]>, image: string) => {
    const deps = await fakeCoreDeps();
    for (const [name, addresses] of Object.entries(names)) deps.hosts.names.set(name, addresses);
    return resolveImage(deps, 'acme', 'uid-1', image, 'docker');
  };

  it('refuses a registry name that resolves off the public internet, naming the address', async () => {
    await expect(
      resolved({ 'rebind.example.com': ['127.0.0.1'] }, 'rebind.example.com:5000/a/b:1'),
    ).rejects.toThrow(
      'image "rebind.example.com:5000/a/b:1" names registry host "rebind.example.com", which resolves to 127.0.0.1, off the public internet',
    );
    await expect(
      resolved({ 'meta.example.com': ['93.184.215.14', '169.254.169.254'] }, 'meta.example.com/a/b'),
    ).rejects.toThrow('resolves to 169.254.169.254,');
    await expect(resolved({ 'v6.example.com': ['fd00::1'] }, 'v6.example.com/a/b')).rejects.toThrow(
      'resolves to fd00::1,',
    );
  });

  it("refuses a name under a private zone of the apps' network, which it resolves as this resolver does not", async () => {
    const deps = await fakeCoreDeps();
    deps.hosts.privateDomains.push('corp.example.com');
    // Publicly it may not resolve, or resolve elsewhere: the runtimes' network is what pulls.
    deps.hosts.names.set('registry.corp.example.com', ['93.184.215.14']);
    await expect(
      resolveImage(deps, 'acme', 'uid-1', 'registry.corp.example.com:8443/a/b:1', 'fargate'),
    ).rejects.toThrow(
      `names registry host "registry.corp.example.com", which the apps' network resolves privately (corp.example.com)`,
    );
    expect(await resolveImage(deps, 'acme', 'uid-1', 'notcorp.example.com/a/b:1', 'fargate')).toEqual({
      digest: null,
      platforms: null,
    });
  });

  it('takes a name on the public internet, and one that does not resolve (no pull could reach it)', async () => {
    expect(await resolved({ 'ghcr.io': ['140.82.112.34'] }, 'ghcr.io/org/app:1')).toEqual({
      digest: null,
      platforms: null,
    });
    expect(await resolved({}, 'registry.invalid/org/app:1')).toEqual({ digest: null, platforms: null });
    expect(await resolved({ 'docker.io': ['10.0.0.1'] }, 'busybox')).toEqual({
      digest: null,
      platforms: null,
    });
  });
});
