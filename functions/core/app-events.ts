import { newId } from './ids.ts';
import type { AppEventType, AppRecord, Clock, Store } from './ports.ts';

/** Records what happened to an app (newest first in its event list). */
export async function recordAppEvent(
  deps: { store: Store; clock: Clock },
  app: Pick<AppRecord, 'tenantId' | 'uid'>,
  type: AppEventType,
  message: string,
  details?: Record<string, unknown>,
): Promise<void> {
  const at = deps.clock.now();
  await deps.store.addAppEvent({
    tenantId: app.tenantId,
    appUid: app.uid,
    id: newId('evt', at),
    type,
    message,
    at: at.toISOString(),
    ...(details ? { details } : {}),
  });
}
