import { ConfigError } from '../functions/shared/config-parsing.ts';
import { berthApp } from './berth-app.ts';

try {
  berthApp().app.synth();
} catch (err) {
  // A mistake in the install's context is the installer's to mend: its message names each field, a stack trace nothing.
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exitCode = 1;
}
