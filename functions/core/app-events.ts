import type { Author } from '../../schemas/app.ts';
import { newId } from './ids.ts';
import type { AppEventRecord, AppEventType, AppRecord, Clock, DeploymentRecord, Store } from './ports.ts';

/** What happened to an app, before it is dated: its type, its message and what more there is to say. */
export interface AppEventNote {
  type: AppEventType;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The event of `app` that `note` says happened at `at`; `of` names what happened, so that it makes one event however
 * often it is reported (e.g. a task's stop).
 */
export function appEventOf(
  app: Pick<AppRecord, 'tenantId' | 'uid'>,
  { type, message, details }: AppEventNote,
  at: Date,
  of?: string,
): AppEventRecord {
  return {
    tenantId: app.tenantId,
    appUid: app.uid,
    id: newId('evt', at, of),
    type,
    message,
    at: at.toISOString(),
    ...(details ? { details } : {}),
  };
}

/** `note` with the key that asked for the change, in its details as `by`, when a key did. */
export function madeBy(note: AppEventNote, author: Author | undefined): AppEventNote {
  return author ? { ...note, details: { ...note.details, by: author } } : note;
}

/** The event of a deployment made by a change of the app; a stopped app's deployment waits until it is started. */
export function deployingEvent(deployment: DeploymentRecord, appStatus?: AppRecord['status']): AppEventNote {
  const waits = appStatus === 'stopped' ? ' once the app is started: it is stopped' : '';
  return {
    type: 'deploying',
    message: `deploying revision ${deployment.revision} (${deployment.trigger})${waits}`,
    details: { deployment: deployment.id, revision: deployment.revision, trigger: deployment.trigger },
  };
}

/**
 * Records what happened to an app (newest first in its event list): now, or, given `reported`, when the runtime says
 * it happened, as one event however often it is reported (`of` names what happened, e.g. a task's stop). What a
 * change of the app does is written with the change instead (changeApp's `event`).
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
  await deps.store.addAppEvent(appEventOf(app, { type, message, details }, at, reported?.of));
}

/**
 * What an exit code says by convention (shells', and 128 + a signal), for a container whose runtime gave no reason:
 * a wrong `command` exits 127 from the image's init or shell.
 */
const CONVENTIONAL_EXITS: Record<number, string> = {
  126: 'command not executable',
  127: 'command not found',
  134: 'aborted: SIGABRT',
  137: 'killed: SIGKILL',
  139: 'segmentation fault: SIGSEGV',
  143: 'terminated: SIGTERM',
};

/**
 * How a container exited, as events say it: `exited with code 137 (OOMKilled)`, the reason where there is one (else
 * what the code means by convention, `exited with code 127 (command not found)`), or `exited (never started)`
 * without a code.
 */
export const exitedWith = (exitCode: number | null, reason?: string | null) => {
  const why = reason || (exitCode === null ? undefined : CONVENTIONAL_EXITS[exitCode]);
  return `exited${exitCode === null ? '' : ` with code ${exitCode}`}${why ? ` (${why})` : ''}`;
};

/** A replica stopped by neither Berth nor itself, as events and instances say it, with the runtime's words why. */
export const stoppedOutsideBerth = (why: string) => `stopped outside Berth: ${why}`;
