/**
 * Turns a request's `Authorization` header into a {@link Principal}: an API key (`mk_…`, looked
 * up in the key store) or an OIDC JWT (three dot-separated parts), as the gateway's
 * configuration allows. Every refusal is an AuthError (401) saying which check failed.
 */
import { processSecrets, systemClock, type Clock, type Logger } from '@maestro/runtime';
import { API_KEY_PREFIX, parseApiKey, secretMatches } from './api-key.js';
import type { ApiKeyStore } from './api-key-store.js';
import { unauthenticated } from './auth-errors.js';
import type { OidcVerifier } from './oidc-verifier.js';
import type { Principal } from './principal.js';

/** What {@link createAuthenticator} needs. */
export interface AuthenticatorOptions {
  /** The API keys; undefined when API keys are not accepted (`MAESTRO_GATEWAY_AUTH=oidc`). */
  keys?: ApiKeyStore;
  /** The OIDC verifier; undefined when tokens are not accepted. */
  oidc?: OidcVerifier;
  /** When a key was last used is recorded from it, and a token's expiry is read against it. @default systemClock */
  clock?: Clock;
  logger: Logger;
}

/** Authenticates one request's credential. */
export interface Authenticator {
  /** The principal of `authorization` (the header's value), or throws an AuthError. */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /**
   * Whether a principal {@link authenticate} returned earlier would still be accepted now, for
   * what outlives one request (an open event stream): an API key (the operator's too) while it
   * exists and is not revoked (rotating the bootstrap key revokes the old one), an OIDC token
   * until its `expiresAtMs`. Throws when the key store cannot be read: the caller decides.
   */
  stillValid(principal: Principal): Promise<boolean>;
}

const bearer = /^Bearer +(\S+) *$/i;
/** How stale a key's recorded last use may get before a request records it again. */
const lastUseResolutionMs = 60_000;
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** Creates the authenticator of the configured credential kinds. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const clock = options.clock ?? systemClock;
  const { keys, oidc, logger } = options;
  const accepted = [keys ? 'an API key' : undefined, oidc ? 'an OIDC token' : undefined].filter(Boolean).join(' or ');

  /** Keys already handed to the redactor (a key's text is fixed by its id: the secret's hash matched). */
  const redactedKeys = new Set<string>();
  const byKey = async (store: ApiKeyStore, token: string): Promise<Principal> => {
    const parts = parseApiKey(token);
    if (!parts) throw unauthenticated('malformed API key: expected mk_<12-character id>_<43-character secret>');
    const key = await store.get(parts.keyId);
    // An unknown id and a wrong secret read the same, so the answer does not confirm an id.
    if (!key || !secretMatches(parts.secret, key.secretHash)) throw unauthenticated('unknown API key', parts.keyId);
    if (key.revokedAt !== undefined) throw unauthenticated(`API key ${key.id} was revoked`, key.id);
    // Last use is for people (which keys are idle), so one write a minute per key is enough.
    const now = clock.now();
    if (key.lastUsedAt === undefined || now - key.lastUsedAt.getTime() >= lastUseResolutionMs) {
      store.touch(key.id, new Date(now)).catch((err: unknown) => logger.warn('API key use not recorded', { keyId: key.id, err }));
    }
    // A valid key is a credential this process now holds: it is redacted from every log line,
    // event and error from here on (see @maestro/runtime secrets). Once per key, not per request.
    if (!redactedKeys.has(key.id)) {
      processSecrets().register(token, 'GATEWAY_API_KEY');
      redactedKeys.add(key.id);
    }
    return { tenant: key.tenant, scopes: key.scopes, subject: `key:${key.id}`, via: key.operator ? 'operator' : 'api-key', keyId: key.id, keySecretHash: key.secretHash };
  };

  return {
    async stillValid(principal) {
      if (principal.via === 'oidc') return principal.expiresAtMs === undefined || clock.now() < principal.expiresAtMs;
      // The same lookup as `byKey`. The key must still exist unrevoked and be the one the
      // stream opened with: the operator key's id can come back with another secret, tenant or
      // scopes when the gateway is re-configured.
      if (!keys || principal.keyId === undefined) return false;
      const key = await keys.get(principal.keyId);
      return (
        key !== undefined &&
        key.revokedAt === undefined &&
        key.secretHash === principal.keySecretHash &&
        key.tenant === principal.tenant &&
        key.scopes.length === principal.scopes.length &&
        key.scopes.every((scope) => principal.scopes.includes(scope))
      );
    },
    async authenticate(authorization) {
      if (authorization === undefined || authorization === '') {
        throw unauthenticated(`missing credentials: send Authorization: Bearer with ${accepted}`);
      }
      const token = bearer.exec(authorization)?.[1];
      if (token === undefined) throw unauthenticated('malformed Authorization header: expected "Bearer <token>"');
      if (token.startsWith(API_KEY_PREFIX)) {
        if (!keys) throw unauthenticated(`API keys are not accepted here; send ${accepted}`);
        return byKey(keys, token);
      }
      if (jwtShape.test(token)) {
        if (!oidc) throw unauthenticated(`OIDC tokens are not accepted here; send ${accepted}`);
        return oidc.verify(token);
      }
      throw unauthenticated(`malformed credentials: send ${accepted}`);
    },
  };
}
