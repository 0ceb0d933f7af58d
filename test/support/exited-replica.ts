import type { Replica } from '../../functions/core/ports.ts';

/** A replica of acme's web app that ran five seconds and exited with 3; `fields` say what differs. */
export const exitedReplica = (fields: Partial<Replica> = {}): Replica => ({
  id: 'r1',
  tenantId: 'acme',
  app: 'web',
  appUid: 'app_1',
  revision: 1,
  generation: 1,
  slot: 0,
  state: 'exited',
  cpu: 0.25,
  memoryMiB: 512,
  createdAt: '2026-11-30T10:00:00.000Z',
  startedAt: '2026-11-30T10:00:00.000Z',
  stoppedAt: '2026-11-30T10:00:05.000Z',
  exitCode: 3,
  endpoint: null,
  ...fields,
});
