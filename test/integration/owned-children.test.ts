import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { ownedProcess, spawnOwned } from '../../functions/local/owned-children.ts';

/** Running, not merely a zombie its new parent has not reaped yet. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * A parent Node process that starts `sleep 300` the given way and prints the child's pid. It runs in a process group
 * of its own, as a terminal's job does, and takes SIGINT as the platform does: without dying of it.
 */
async function parentOf(how: 'spawnOwned' | 'spawn'): Promise<{ parent: ChildProcess; child: number }> {
  const start =
    how === 'spawnOwned'
      ? "const { spawnOwned } = await import('./functions/local/owned-children.ts'); const c = spawnOwned('sleep', ['300'], { stdio: 'ignore' });"
      : "const { spawn } = await import('node:child_process'); const c = spawn('sleep', ['300'], { stdio: 'ignore' });";
  const parent = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      // Its SIGINT handler is in place before it says its child's pid, which is when the test may send one.
      `process.on('SIGINT', () => {}); ${start} console.log(c.pid); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  const child = await new Promise<number>((resolve, reject) => {
    parent.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before starting its child`)));
  });
  // Only once it runs `sleep` has setpriv set the death signal and exec'd it: a parent killed before then (a loaded
  // machine can take that long) leaves nothing to signal.
  await vi.waitFor(() => expect(readFileSync(`/proc/${child}/comm`, 'utf8').trim()).toBe('sleep'), {
    timeout: 5000,
    interval: 20,
  });
  return { parent, child };
}

describe.runIf(process.platform === 'linux')('children the platform owns', () => {
  it('die with the platform even when it is SIGKILLed (a plain child would be orphaned)', async () => {
    const plain = await parentOf('spawn');
    plain.parent.kill('SIGKILL');
    await new Promise((resolve) => plain.parent.once('exit', resolve));
    // The control: an ordinary child outlives its killed parent…
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(alive(plain.child)).toBe(true);
    process.kill(plain.child, 'SIGKILL');

    // …one started with spawnOwned does not.
    const owned = await parentOf('spawnOwned');
    expect(alive(owned.child)).toBe(true);
    owned.parent.kill('SIGKILL');
    await vi.waitFor(() => expect(alive(owned.child)).toBe(false), { timeout: 5000, interval: 50 });
  });

  it("are out of reach of the terminal's Ctrl-C, which reaches only the platform: it stops them itself", async () => {
    // The control: a Ctrl-C (SIGINT to the job's whole process group) takes an ordinary child down with it…
    const plain = await parentOf('spawn');
    try {
      process.kill(-(plain.parent.pid ?? 0), 'SIGINT');
      await vi.waitFor(() => expect(alive(plain.child)).toBe(false), { timeout: 5000, interval: 50 });
    } finally {
      plain.parent.kill('SIGKILL');
    }

    // …not one started with spawnOwned, which runs until the platform stops it (or dies).
    const owned = await parentOf('spawnOwned');
    try {
      process.kill(-(owned.parent.pid ?? 0), 'SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(alive(owned.parent.pid ?? 0), 'the platform took the Ctrl-C without dying').toBe(true);
      expect(alive(owned.child), 'its child was out of reach').toBe(true);
    } finally {
      owned.parent.kill('SIGKILL');
    }
    await vi.waitFor(() => expect(alive(owned.child)).toBe(false), { timeout: 5000, interval: 50 });
  });

  it('that could not be started count as exited, and stopping them is done at once', async () => {
    const owned = ownedProcess(
      spawnOwned('sleep', ['300'], { cwd: '/nonexistent-berth-dir', stdio: 'ignore' }),
    );
    expect(await owned.exited).toBe('could not be started');
    await owned.stop();
  });

  it('say how they ended: the code they exited with, or the signal that killed them', async () => {
    const exiting = ownedProcess(spawnOwned('sh', ['-c', 'exit 3'], { stdio: 'ignore' }));
    expect(await exiting.exited).toBe('exited with code 3');
    const killed = ownedProcess(spawnOwned('sleep', ['300'], { stdio: 'ignore' }));
    const stopping = killed.stop(); // SIGTERM first
    expect(await killed.exited).toBe('was killed by SIGTERM');
    await stopping;
  });
});
