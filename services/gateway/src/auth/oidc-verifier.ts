/**
 * Verifies OIDC access tokens (JWTs) against the identity provider's published keys (JWKS):
 * signature with an allowed asymmetric algorithm only (RS256, ES256, EdDSA: never `none` or an
 * HMAC, whose "secret" could be the public key), issuer, audience, and exp/nbf with a clock
 * skew. The tenant comes from a configurable claim and the scopes from the standard `scope`
 * claim (`maestro:read`, `maestro:submit`, `maestro:admin`).
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { OperationalError, systemClock, type Clock } from '@maestro/runtime';
import { unauthenticated } from './auth-errors.js';
import { isScope, type Principal, type Scope } from './principal.js';
import { isTenantName, TENANT_RULE } from './tenant-name.js';

/** Algorithms a token may be signed with. */
export const allowedOidcAlgorithms = ['RS256', 'ES256', 'EdDSA'] as const;

/** The prefix of maestro's scopes in the `scope` claim. */
export const OIDC_SCOPE_PREFIX = 'maestro:';

/** What {@link createOidcVerifier} needs. */
export interface OidcVerifierOptions {
  /** The `iss` every token must carry. */
  issuer: string;
  /** The `aud` every token must include. */
  audience: string;
  /** Where the provider publishes its keys (fetched when needed, then cached by jose). */
  jwksUrl: string;
  /** Seconds of leeway on exp and nbf. @default 60 */
  clockSkewS?: number;
  /** The claim naming the caller's tenant. @default 'tenant' */
  tenantClaim?: string;
  /** Where "now" comes from. @default systemClock */
  clock?: Clock;
  /** The key source; tests may pass a local one. @default createRemoteJWKSet(jwksUrl) */
  keys?: JWTVerifyGetKey;
}

/** Turns a bearer JWT into a principal, or throws an AuthError (401) saying why not. */
export interface OidcVerifier {
  verify(token: string): Promise<Principal>;
}

function scopesOf(claim: unknown): Scope[] {
  if (typeof claim !== 'string') return [];
  return claim
    .split(' ')
    .filter((item) => item.startsWith(OIDC_SCOPE_PREFIX))
    .map((item) => item.slice(OIDC_SCOPE_PREFIX.length))
    .filter(isScope);
}

/** Why jose refused a token, in words for the caller (never quoting the token). */
function refusal(err: unknown): Error {
  if (err instanceof errors.JWTExpired) return unauthenticated('token expired', undefined, err);
  if (err instanceof errors.JWTClaimValidationFailed) {
    const what: Record<string, string> = { iss: 'wrong issuer', aud: 'wrong audience', nbf: 'token not yet valid', iat: 'token issued in the future' };
    return unauthenticated(`token refused: ${what[err.claim] ?? `claim ${err.claim} invalid`}`, undefined, err);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return unauthenticated(`token refused: algorithm not allowed (use ${allowedOidcAlgorithms.join(', ')})`, undefined, err);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthenticated('token refused: signature not valid for the identity provider\'s keys', undefined, err);
  }
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) {
    return new OperationalError('OIDC_KEYS_UNAVAILABLE', 'the identity provider\'s keys could not be read', { cause: err });
  }
  return unauthenticated('token refused: not a valid JWT', undefined, err);
}

/** Creates a verifier for one issuer and audience. */
export function createOidcVerifier(options: OidcVerifierOptions): OidcVerifier {
  const keys = options.keys ?? createRemoteJWKSet(new URL(options.jwksUrl));
  const clock = options.clock ?? systemClock;
  const tenantClaim = options.tenantClaim ?? 'tenant';
  const clockTolerance = options.clockSkewS ?? 60;
  return {
    async verify(token: string): Promise<Principal> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: [...allowedOidcAlgorithms],
          clockTolerance,
          currentDate: new Date(clock.now()),
          // A token without exp would never end.
          requiredClaims: ['exp'],
        }));
      } catch (err) {
        throw refusal(err);
      }
      const tenant = payload[tenantClaim];
      if (typeof tenant !== 'string' || tenant === '') throw unauthenticated(`token refused: it has no ${tenantClaim} claim naming the tenant`);
      if (!isTenantName(tenant)) throw unauthenticated(`token refused: its ${tenantClaim} claim is not a tenant name (${TENANT_RULE})`);
      // `exp` is required above; the verifier accepts the token until exp + skew, so that is when
      // a stream opened with it ends.
      const expiresAtMs = ((payload.exp ?? 0) + clockTolerance) * 1000;
      return { tenant, scopes: scopesOf(payload['scope']), subject: payload.sub ?? '', via: 'oidc', expiresAtMs };
    },
  };
}
