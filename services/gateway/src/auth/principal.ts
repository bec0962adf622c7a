/**
 * Who a request acts for, once authenticated: the tenant whose data it may see, what it may do
 * (scopes) and how it proved it. The auth hook sets it on every authenticated request
 * (`request.principal`); routes pass its tenant upstream.
 */

/** What a caller may do. `admin` implies `submit`, which implies `read`. */
export const Scope = {
  read: 'read',
  submit: 'submit',
  admin: 'admin',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

/** Every scope, weakest first. */
export const allScopes: readonly Scope[] = [Scope.read, Scope.submit, Scope.admin];

/** How a principal proved who it is. `operator` is the bootstrap key from the gateway's configuration. */
export type PrincipalVia = 'api-key' | 'oidc' | 'operator';

/** An authenticated caller. */
export interface Principal {
  /** The tenant every upstream call is made for. */
  readonly tenant: string;
  readonly scopes: readonly Scope[];
  /** `key:<id>` for an API key, the token's `sub` for OIDC. */
  readonly subject: string;
  readonly via: PrincipalVia;
  /** The API key's id (for logs); absent for OIDC. */
  readonly keyId?: string;
  /**
   * The stored hash of the API key's secret when it was checked, so an open stream can tell
   * the same id now standing for another secret (the operator key re-configured). Never logged
   * or sent anywhere; absent for OIDC.
   */
  readonly keySecretHash?: string;
  /**
   * When the credential stops being valid, in ms since the epoch: an OIDC token's `exp` plus the
   * configured clock skew (the last instant the verifier would still accept it). Absent for API
   * keys, which do not expire but can be revoked: `Authenticator.stillValid` re-checks them.
   */
  readonly expiresAtMs?: number;
}

/** True for one of the three scope names. */
export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (allScopes as readonly string[]).includes(value);
}

/** True when `granted` includes `needed` directly or through a stronger scope. */
export function grantsScope(granted: readonly Scope[], needed: Scope): boolean {
  const rank = allScopes.indexOf(needed);
  return granted.some((scope) => allScopes.indexOf(scope) >= rank);
}
