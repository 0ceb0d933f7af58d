import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installOrExplain } from '../../functions/local/system-packages.ts';

const BUSYBOX = '/bin/busybox';

/** Debian's statically linked busybox, the only thing test images are made of (nothing can be pulled here). */
function ensureBusybox(): string {
  const isStatic =
    existsSync(BUSYBOX) && execFileSync('file', ['-b', BUSYBOX], { encoding: 'utf8' }).includes('statically');
  if (!isStatic) {
    installOrExplain(
      ['busybox-static', 'file'],
      'a static busybox (for test images)',
      'Install busybox-static.',
    );
  }
  return BUSYBOX;
}

/** The id of the image `tag` names, or undefined when it names none. */
export function imageIdOf(tag: string): string | undefined {
  const found = spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/**
 * Makes the test web app offline: busybox-static and a link for each of its applets in `/bin`, whose `httpd` answers
 * with the container's hostname, and any `changes` after (Dockerfile instructions `docker import` takes: `LABEL`,
 * `VOLUME`, …). Imported from a tarball rather than built, so no builder is needed: Docker's legacy builder is on its
 * way out, and Debian's Docker has no BuildKit client. Each import is a new image (it carries its time), so the one
 * the tag named before is removed, unless a container still uses it: every test run would otherwise leave the last
 * run's images behind, untagged. Returns the local tag.
 */
export function buildTestImage(tag = 'berth-test/web:1', changes: string[] = []): string {
  const replaced = imageIdOf(tag);
  const root = mkdtempSync(join(tmpdir(), 'berth-image-'));
  try {
    const busybox = ensureBusybox();
    mkdirSync(join(root, 'bin'));
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const applet of applets) if (applet !== 'busybox') symlinkSync('busybox', join(root, 'bin', applet));
    const tarball = execFileSync(
      'tar',
      ['--owner=0', '--group=0', '--numeric-owner', '-C', root, '-c', '.'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const command =
      '["/bin/sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]';
    execFileSync(
      'docker',
      ['import', ...[`CMD ${command}`, ...changes].flatMap((change) => ['--change', change]), '-', tag],
      { input: tarball, stdio: ['pipe', 'ignore', 'inherit'] },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  if (replaced && replaced !== imageIdOf(tag))
    spawnSync('docker', ['image', 'rm', replaced], { stdio: 'ignore' });
  return tag;
}
