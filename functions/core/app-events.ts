import { newId } from './ids.ts';
import type { AppEventType, AppRecord, Clock, Store } from './ports.ts';

/**
 * Records what happened to an app (newest first in its event list): now, or, given `reported`, when the runtime says
 * it happened, as one event however often it is reported (`of` names what happened, e.g. a task's stop).
 */
export async function recordAppEvent(
  deps: { store: Store; clock: Clock },
  app: Pick<AppRecord, 'tenantId' | 'uid'>,
  type: AppEventType,
  message: string,
  details?: Record<string, unknown>,
  reported?: { at: Date; of: string },
): Promise<void> {
  const at = reported?.at ?? deps.clock.now();
  await deps.store.addAppEvent({
    tenantId: app.tenantId,
    appUid: app.uid,
    id: newId('evt', at, reported?.of),
    type,
    message,
    at: at.toISOString(),
    ...(details ? { details } : {}),
  });
}

/**
 * How a container exited, as events say it: `exited with code 137 (OOMKilled)`, the reason where there is one, or
 * `exited (never started)` without a code.
 */
export const exitedWith = (exitCode: number | null, reason?: string | null) =>
  `exited${exitCode === null ? '' : ` with code ${exitCode}`}${reason ? ` (${reason})` : ''}`;
