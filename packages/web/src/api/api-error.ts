/**
 * What went wrong talking to the gateway, in words a person can act on. The views show it in
 * their error state instead of a blank page.
 */

/** Why a request failed: the gateway could not be reached, or it answered with an error. */
export const ApiErrorKinds = {
  unreachable: 'unreachable',
  notFound: 'not_found',
  failed: 'failed',
} as const;
export type ApiErrorKind = (typeof ApiErrorKinds)[keyof typeof ApiErrorKinds];

/** A failed gateway request; `code` is the gateway's error code when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Builds the error for an HTTP answer that was not 2xx, from the gateway's `{ error: { code, message } }` body. */
export function toApiError(status: number, body: unknown, what: string): ApiError {
  const error = typeof body === 'object' && body !== null ? (body as { error?: { code?: unknown; message?: unknown } }).error : undefined;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`;
  const message = typeof error?.message === 'string' ? error.message : `the gateway answered ${status}`;
  if (status === 404) return new ApiError(ApiErrorKinds.notFound, `${what} not found: ${message}`, status, code);
  if (status === 502 || status === 503 || status === 504) return new ApiError(ApiErrorKinds.unreachable, `${what}: ${message}`, status, code);
  return new ApiError(ApiErrorKinds.failed, `${what}: ${message}`, status, code);
}

/** The error for a request that never got an answer (gateway down, network gone). */
export function unreachableError(what: string, cause: unknown): ApiError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ApiError(ApiErrorKinds.unreachable, `${what}: the gateway cannot be reached (${detail}). Is it running?`, 0, 'UNREACHABLE');
}

/** Any thrown value as an ApiError (so views have one shape to show). */
export function asApiError(err: unknown, what: string): ApiError {
  return err instanceof ApiError ? err : unreachableError(what, err);
}
