/**
 * The errors of authentication and authorisation. The one HTTP error handler answers them
 * with 401 (and `WWW-Authenticate: Bearer`) or 403; their messages say what was wrong and
 * never quote the credential.
 */
import { UserError } from '@maestro/runtime';

/** Stable codes of the auth errors. */
export const AuthErrorCodes = {
  /** No credential, or one that is malformed, unknown, revoked, expired or wrongly signed (401). */
  unauthenticated: 'UNAUTHENTICATED',
  /** Authenticated, but without the scope the route needs (403). */
  scopeMissing: 'SCOPE_MISSING',
  /** A key for another tenant asked by someone who is not the operator (403). */
  tenantForbidden: 'TENANT_FORBIDDEN',
} as const;
export type AuthErrorCode = (typeof AuthErrorCodes)[keyof typeof AuthErrorCodes];

/** A request the gateway refuses for who sent it: 401 or 403, logged at info. */
export class AuthError extends UserError {
  /** The HTTP status the error handler answers with. */
  readonly status: 401 | 403;

  constructor(code: AuthErrorCode, message: string, options: { keyId?: string; cause?: unknown } = {}) {
    super(code, message, {
      reason: 'invalid',
      ...(options.keyId !== undefined ? { details: { keyId: options.keyId } } : {}),
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.status = code === AuthErrorCodes.unauthenticated ? 401 : 403;
  }
}

/** A 401 saying why the credential was not accepted. */
export function unauthenticated(message: string, keyId?: string, cause?: unknown): AuthError {
  return new AuthError(AuthErrorCodes.unauthenticated, message, { ...(keyId !== undefined ? { keyId } : {}), ...(cause !== undefined ? { cause } : {}) });
}

/** A 403 naming the scope the route needs. */
export function scopeMissing(scope: string, keyId?: string): AuthError {
  return new AuthError(AuthErrorCodes.scopeMissing, `this route needs scope ${scope}`, keyId !== undefined ? { keyId } : {});
}
