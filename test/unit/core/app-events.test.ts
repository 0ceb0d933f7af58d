import { describe, expect, it } from 'vitest';
import { exitedWith } from '../../../functions/core/app-events.ts';

describe('exitedWith', () => {
  it("says what an exit code means by convention when the runtime gives no reason, and the runtime's reason when it does", () => {
    expect([126, 127, 134, 137, 139, 143].map((code) => exitedWith(code))).toEqual([
      'exited with code 126 (command not executable)',
      'exited with code 127 (command not found)',
      'exited with code 134 (aborted: SIGABRT)',
      'exited with code 137 (killed: SIGKILL)',
      'exited with code 139 (segmentation fault: SIGSEGV)',
      'exited with code 143 (terminated: SIGTERM)',
    ]);
    // A code with no convention, and no code at all (a container that never started), are said as they are.
    expect(exitedWith(3)).toBe('exited with code 3');
    expect(exitedWith(0, null)).toBe('exited with code 0');
    expect(exitedWith(null)).toBe('exited');
    // The runtime's own reason wins over the convention.
    expect(exitedWith(137, 'OOMKilled')).toBe('exited with code 137 (OOMKilled)');
    expect(exitedWith(null, 'never started')).toBe('exited (never started)');
  });
});
