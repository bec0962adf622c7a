/**
 * The one error hierarchy of CodeMaestro. Every error a service raises on purpose is one of
 * three kinds, each with a stable `code`; the edges (gRPC, HTTP, NATS) translate the kind into
 * a status once, in one place (`toGrpcStatus`, the gateway's error handler).
 */

/** Options shared by every maestro error. */
export interface MaestroErrorOptions {
  /** The underlying error, kept for logs; never shown to a caller. */
  cause?: unknown;
  /** The input field at fault, for bad-input errors (`goal`, `repo_path` …). */
  field?: string;
  /** Structured details for logs and clients. */
  details?: Record<string, unknown>;
}

/** Base class: a stable machine-readable code plus a message written for a person. */
export abstract class MaestroError extends Error {
  abstract readonly kind: 'user' | 'operational' | 'unexpected';
  readonly code: string;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: MaestroErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }
}

/**
 * The caller asked for something wrong or impossible: bad input (INVALID_ARGUMENT, HTTP 400),
 * a missing thing (NOT_FOUND, 404), or a state that forbids it (FAILED_PRECONDITION, 409).
 * Logged at info: it is not our fault.
 */
export class UserError extends MaestroError {
  readonly kind = 'user' as const;
  /**
   * Which flavour of caller mistake this is; decides the status code at the edge. `cancelled`:
   * the caller gave up on the call (its signal aborted), so the work stopped.
   */
  readonly reason: 'invalid' | 'not_found' | 'precondition' | 'already_exists' | 'cancelled';

  constructor(
    code: string,
    message: string,
    options: MaestroErrorOptions & { reason?: UserError['reason'] } = {},
  ) {
    super(code, message, options);
    this.reason = options.reason ?? 'invalid';
  }
}

/** A transient failure of something we depend on (UNAVAILABLE, HTTP 503); worth retrying. */
export class OperationalError extends MaestroError {
  readonly kind = 'operational' as const;
}

/** A bug: an invariant broke (INTERNAL, HTTP 500). Logged at error with its cause. */
export class UnexpectedError extends MaestroError {
  readonly kind = 'unexpected' as const;
}

/** Shorthand for the most common user error: a named input field is wrong. */
export function invalidField(field: string, message: string, code = 'INVALID_ARGUMENT'): UserError {
  return new UserError(code, `${field}: ${message}`, { field, reason: 'invalid' });
}

/** Shorthand for "no such thing". */
export function notFound(what: string, id: string, code = 'NOT_FOUND'): UserError {
  return new UserError(code, `${what} ${id} does not exist`, { reason: 'not_found', details: { id } });
}

/** True for any error of the maestro hierarchy. */
export function isMaestroError(err: unknown): err is MaestroError {
  return err instanceof MaestroError;
}

/** Wraps anything thrown into a maestro error, keeping maestro errors as they are. */
export function toMaestroError(err: unknown): MaestroError {
  if (isMaestroError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new UnexpectedError('UNEXPECTED', `unexpected error: ${message}`, { cause: err });
}
