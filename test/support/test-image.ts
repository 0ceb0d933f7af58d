import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Builds the test web app offline: FROM scratch + busybox-static, httpd answering with the container's hostname, and
 * any `instructions` after. Returns the local tag.
 */
export function buildTestImage(tag = 'berth-test/web:1', instructions: string[] = []): string {
  const context = mkdtempSync(join(tmpdir(), 'berth-image-'));
  copyFileSync(ensureBusybox(), join(context, 'busybox'));
  writeFileSync(
    join(context, 'Dockerfile'),
    [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'CMD ["/bin/sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]',
      ...instructions,
      '',
    ].join('\n'),
  );
  try {
    execFileSync('docker', ['build', '-q', '-t', tag, context], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return tag;
}
