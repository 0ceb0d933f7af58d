import { describe, expect, it } from 'vitest';
import { signalName } from '../../../functions/adapters/docker/signals.ts';

describe("a signal's name, as Docker gives a signal", () => {
  it('names it from its number, or from its name with or without SIG, in any case', () => {
    expect(['15', '9', 'SIGQUIT', 'int', 'Winch'].map(signalName)).toEqual([
      'SIGTERM',
      'SIGKILL',
      'SIGQUIT',
      'SIGINT',
      'SIGWINCH',
    ]);
    expect(signalName('99')).toBe('signal 99');
  });
});
