import type { ErrorCode, FieldProblem } from '../../schemas/problem.ts';

/**
 * The only kind of error core throws. `code` is API.md's stable dotted code; the HTTP edge maps it to a status.
 *
 * @example
 * throw new NotFoundError('app.notFound', `app "${name}" does not exist`);
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldProblem[],
    /** What went wrong underneath (the dependency's own error), for the logs; never shown to clients. */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, errors?: FieldProblem[]) {
    super('validation.failed', message, errors);
  }
}

export class NotFoundError extends DomainError {}

export class TenantNotFoundError extends NotFoundError {
  constructor(tenantId: string) {
    super('tenant.notFound', `tenant "${tenantId}" does not exist`);
  }
}
export class ConflictError extends DomainError {}

/** A tenant is deleted only once its apps are. */
export class TenantHasAppsError extends ConflictError {
  constructor(tenantId: string, apps: number) {
    const left = apps === 1 ? 'an app; delete it' : `${apps} apps; delete them`;
    super('tenant.hasApps', `tenant "${tenantId}" still has ${left} before the tenant`);
  }
}
/** A tenant has the id, or had it and was deleted at `deletedAt`: ids are never used again (Store.deleteTenant). */
export class TenantIdTakenError extends ConflictError {
  constructor(tenantId: string, deletedAt?: string) {
    super(
      'tenant.exists',
      deletedAt
        ? `tenant id "${tenantId}" belonged to a tenant deleted at ${deletedAt}; an id is never used again, since its usage and reports are kept under it: choose another`
        : `tenant "${tenantId}" already exists`,
    );
  }
}
export class ForbiddenError extends DomainError {}

export class QuotaExceededError extends DomainError {
  constructor(message: string) {
    super('quota.exceeded', message);
  }
}

/**
 * A conditional write found its record, or what it was decided on (a tenant's plan, the plan's limits), changed
 * since it was read: nothing was written. withOptimisticRetry reads again and decides anew; past its attempts, 409.
 */
export class WriteConflictError extends ConflictError {
  constructor(message = 'the resource is being changed by many requests at once; retry shortly') {
    super('conflict', message);
  }
}

/** The client's If-Match names no version the resource has (412): it changed since the client read it. */
export class PreconditionFailedError extends DomainError {
  constructor(
    message = 'the resource changed since it was read; fetch it again and retry with the new ETag',
  ) {
    super('precondition.failed', message);
  }
}

/** A dependency (the store, the runtime) cannot be reached; safe to retry. */
export class UnavailableError extends DomainError {
  constructor(message = 'a dependency is unavailable; retry shortly', options?: ErrorOptions) {
    super('unavailable', message, undefined, options);
  }
}

/** A write that ends a deployment found it moved on meanwhile (another pass ended it): nothing was written. */
export class DeploymentMovedError extends UnavailableError {
  constructor(deployment: { id: string }) {
    super(`deployment ${deployment.id} moved on meanwhile; nothing was written`);
  }
}

/** True when `err` is a DomainError whose code starts with `prefix` (e.g. `'app.'`). */
export function isDomainError(err: unknown, prefix = ''): err is DomainError {
  return err instanceof DomainError && err.code.startsWith(prefix);
}
