/**
 * How the resilience layer adds what it knows (attempts made, models tried) to a provider error
 * without changing what a caller acts on: the kind, the code and the user-error reason stay.
 */
import { OperationalError, UserError, isMaestroError } from '@maestro/runtime';

/**
 * A copy of `error` with `extra` merged into its details and `note` appended to its message; the
 * original becomes the `cause`. Errors other than operational and user errors come back unchanged:
 * the layer only annotates failures it decided about.
 */
export function annotateError(error: unknown, extra: Record<string, unknown>, note: string): unknown {
  const message = error instanceof Error ? `${error.message} (${note})` : note;
  if (error instanceof OperationalError) {
    return new OperationalError(error.code, message, { details: { ...error.details, ...extra }, cause: error });
  }
  if (error instanceof UserError) {
    return new UserError(error.code, message, {
      details: { ...error.details, ...extra },
      cause: error,
      reason: error.reason,
      ...(error.field === undefined ? {} : { field: error.field }),
    });
  }
  return error;
}

/** The stable code of a maestro error, or `UNEXPECTED` for anything else thrown. */
export function codeOf(error: unknown): string {
  return isMaestroError(error) ? error.code : 'UNEXPECTED';
}
