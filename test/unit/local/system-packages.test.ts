import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeExecutable } from '../../support/fake-executables.ts';

/** Whether this test's machine is Debian, as system-packages.ts reads it: set by each test, whatever runs it. */
const machine = vi.hoisted(() => ({ debian: true }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  return {
    ...fs,
    existsSync: (path: string) => (path === '/etc/debian_version' ? machine.debian : fs.existsSync(path)),
  };
});

/**
 * What the platform's start does where a system part is missing: as root on Debian it installs the package with
 * apt-get; anywhere else it stops with what to install. The PATH holds only the executables a test puts there (an
 * `apt-get` that writes down how it was called, a `dockerd` that only tells its version), so nothing is installed.
 */
describe('system parts a start needs', () => {
  let bin: string;
  let aptCalls: string;

  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'berth-system-parts-'));
    aptCalls = join(bin, 'apt-calls');
    writeExecutable(
      bin,
      'apt-get',
      `printf '%s|' "$DEBIAN_FRONTEND" "$@" >> '${aptCalls}'; echo >> '${aptCalls}'`,
    );
    vi.stubEnv('PATH', bin);
    vi.stubEnv('DOCKER_HOST', undefined);
    vi.resetModules();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    rmSync(bin, { recursive: true, force: true });
  });

  /** The apt-get calls made, each as its DEBIAN_FRONTEND and arguments. */
  const aptRuns = () => {
    try {
      return readFileSync(aptCalls, 'utf8').trim().split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };

  function runningAs(uid: number, debian: boolean) {
    vi.spyOn(process, 'getuid').mockReturnValue(uid);
    vi.spyOn(console, 'log').mockImplementation(() => {});
    machine.debian = debian;
  }

  /** A client of an engine that is not there: nothing listens on its socket. */
  const noEngine = () => new Docker({ socketPath: join(bin, 'docker.sock') });

  it('are installed with apt-get as root on Debian: each argument its own, the index updated once', async () => {
    runningAs(0, true);
    const { installOrExplain } = await import('../../../functions/local/system-packages.ts');
    installOrExplain(['docker.io'], 'Docker Engine', 'hint');
    installOrExplain(['docker-registry', 'pkg; touch pwned'], 'the registry', 'hint');
    expect(aptRuns()).toEqual([
      'noninteractive|update|-q|',
      'noninteractive|install|-y|-q|--no-install-recommends|docker.io|',
      'noninteractive|install|-y|-q|--no-install-recommends|docker-registry|pkg; touch pwned|',
    ]);
  });

  it('are named, with how to install them, where the platform is not root', async () => {
    runningAs(1000, true);
    const { ensureDockerEngine } = await import('../../../functions/local/docker-engine.ts');
    const { ensureRegistryBinary } = await import('../../../functions/local/registry-binary.ts');
    const { ensureJava } = await import('../../../functions/local/java.ts');
    const { ensureOpenssl } = await import('../../../functions/local/openssl.ts');
    await expect(ensureDockerEngine(bin, noEngine())).rejects.toThrow(
      'Docker Engine is required but missing. Install Docker Engine (https://docs.docker.com/engine/install/, or "apt-get install docker.io" on Debian) and start it, or point DOCKER_HOST at a running engine.',
    );
    expect(() => ensureRegistryBinary()).toThrow(
      'the CNCF distribution registry is required but missing. Install distribution 2.8 ("apt-get install docker-registry" on Debian, "dnf install docker-distribution" on Fedora, or the registry binary of a 2.8 release from github.com/distribution/distribution).',
    );
    expect(() => ensureJava()).toThrow(
      'Java 17+ (for DynamoDB Local) is required but missing. Install a Java 17+ runtime, e.g. "apt-get install openjdk-17-jre-headless" on Debian or "dnf install java-21-openjdk-devel" on Fedora, or point BERTH_DYNAMODB_ENDPOINT at a running DynamoDB.',
    );
    expect(() => ensureOpenssl()).toThrow(
      'openssl (for the registry\'s token certificate) is required but missing. Install openssl ("apt-get install openssl" on Debian, "dnf install openssl" on Fedora).',
    );
    expect(aptRuns()).toEqual([]);
  });

  it("installs openssl as root on Debian before the registry's first start makes its token certificate", async () => {
    runningAs(0, true);
    const { ensureRegistrySecrets } = await import('../../../functions/local/registry-secrets.ts');
    // The apt-get here installs nothing, so the certificate is still not made: what matters is that it was asked.
    expect(() => ensureRegistrySecrets(join(bin, 'registry'))).toThrow();
    expect(aptRuns()).toEqual([
      'noninteractive|update|-q|',
      'noninteractive|install|-y|-q|--no-install-recommends|openssl|',
    ]);
  });

  it('are named as root off Debian too, where apt-get is not the way', async () => {
    runningAs(0, false);
    const { ensureRegistryBinary } = await import('../../../functions/local/registry-binary.ts');
    expect(() => ensureRegistryBinary()).toThrow('the CNCF distribution registry is required but missing.');
    expect(aptRuns()).toEqual([]);
  });

  it("take distribution 2.x's registry by either of its names, and tell why 3.x's will not do", async () => {
    runningAs(1000, false);
    const { ensureRegistryBinary } = await import('../../../functions/local/registry-binary.ts');
    // Another program's "registry" says nothing of distribution; 3.x's is the binary of distribution's releases.
    writeExecutable(bin, 'registry', 'echo "registry 1.0 (a Windows registry editor)"');
    expect(() => ensureRegistryBinary()).toThrow('the CNCF distribution registry is required but missing.');
    writeExecutable(bin, 'registry', 'echo "registry github.com/distribution/distribution/v3 v3.0.0"');
    expect(() => ensureRegistryBinary()).toThrow(
      "the registry on the PATH is registry github.com/distribution/distribution/v3 v3.0.0, which refuses the tokens Berth gives (it looks a token's key up by its RFC 7638 thumbprint, not as distribution 2.x does). Install distribution 2.8",
    );
    // Fedora's docker-distribution, and distribution's 2.8 releases.
    writeExecutable(bin, 'registry', 'echo "registry github.com/docker/distribution v2.8.3"');
    expect(ensureRegistryBinary()).toBe('registry');
    // Debian's, first where both are.
    writeExecutable(
      bin,
      'docker-registry',
      'echo "docker-registry github.com/docker/distribution 2.8.2+ds1"',
    );
    expect(ensureRegistryBinary()).toBe('docker-registry');
    expect(aptRuns()).toEqual([]);
  });

  it('tells a user an engine refuses that the engine runs, and how to be let in, not to start it', async () => {
    runningAs(1000, true);
    writeExecutable(bin, 'dockerd', '[ "$1" = --version ] && echo "Docker version 26.1.5"');
    // What Node's connect to the engine's socket fails with for a user outside its group (as root, none ever does).
    const refused = Object.assign(new Error('connect EACCES /var/run/docker.sock'), {
      code: 'EACCES',
      errno: -13,
      syscall: 'connect',
      address: '/var/run/docker.sock',
    });
    const engine = new Docker();
    vi.spyOn(engine, 'ping').mockRejectedValue(refused);
    const { ensureDockerEngine } = await import('../../../functions/local/docker-engine.ts');
    await expect(ensureDockerEngine(bin, engine)).rejects.toThrow(
      new Error(
        'the Docker Engine does not let this user in (connect EACCES /var/run/docker.sock): add the user to the docker group ("sudo usermod -aG docker $USER", then log in again), or run as root.',
      ),
    );
    expect(aptRuns()).toEqual([]);
  });

  it('asks for an installed Docker Engine that does not answer to be started, where the platform may not', async () => {
    runningAs(1000, true);
    writeExecutable(bin, 'dockerd', '[ "$1" = --version ] && echo "Docker version 26.1.5"');
    const { ensureDockerEngine } = await import('../../../functions/local/docker-engine.ts');
    await expect(ensureDockerEngine(bin, noEngine())).rejects.toThrow(
      'Docker Engine is installed but not running: start it (e.g. "sudo systemctl start docker"). Install Docker Engine',
    );
    expect(aptRuns()).toEqual([]);
  });
});
