import { createSilentLogger, ManualClock } from '@maestro/runtime';
import { generateApiKey, hashSecret } from './api-key.js';
import { AuthError } from './auth-errors.js';
import { createAuthenticator } from './authenticator.js';
import { InMemoryApiKeyStore } from './in-memory-api-key-store.js';
import type { OidcVerifier } from './oidc-verifier.js';

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

/** Accepts exactly `jwt`, as a verifier of one provider would its own token. */
const oidc: OidcVerifier = {
  verify: async (token) => {
    if (token !== jwt) throw new Error('unexpected token');
    return { tenant: 'acme', scopes: ['read'], subject: 'alice', via: 'oidc' };
  },
};

async function storeWithKey(operator = false): Promise<{ store: InMemoryApiKeyStore; key: string }> {
  const store = new InMemoryApiKeyStore();
  const generated = generateApiKey();
  await store.create({ id: generated.keyId, name: 'k', tenant: 'acme', scopes: ['submit'], secretHash: hashSecret(generated.secret), operator, createdAt: new Date(0) });
  return { store, key: generated.key };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AuthError);
  return (err as AuthError).message;
}

describe('createAuthenticator', () => {
  it('turns an API key into a principal of its tenant and scopes, marking the operator\'s', async () => {
    const { store, key } = await storeWithKey();
    const auth = createAuthenticator({ keys: store, logger: createSilentLogger() });
    expect(await auth.authenticate(`Bearer ${key}`)).toMatchObject({ tenant: 'acme', scopes: ['submit'], via: 'api-key' });
    const operator = await storeWithKey(true);
    expect(await createAuthenticator({ keys: operator.store, logger: createSilentLogger() }).authenticate(`bearer ${operator.key}`)).toMatchObject({ via: 'operator' });
  });

  it('sends JWTs to the OIDC verifier when tokens are accepted', async () => {
    const auth = createAuthenticator({ oidc, logger: createSilentLogger() });
    expect(await auth.authenticate(`Bearer ${jwt}`)).toEqual({ tenant: 'acme', scopes: ['read'], subject: 'alice', via: 'oidc' });
  });

  it('refuses the kind of credential the configuration does not accept, saying what it does', async () => {
    const { store, key } = await storeWithKey();
    expect(await refusal(createAuthenticator({ keys: store, logger: createSilentLogger() }).authenticate(`Bearer ${jwt}`))).toBe(
      'OIDC tokens are not accepted here; send an API key',
    );
    expect(await refusal(createAuthenticator({ oidc, logger: createSilentLogger() }).authenticate(`Bearer ${key}`))).toBe(
      'API keys are not accepted here; send an OIDC token',
    );
    expect(await refusal(createAuthenticator({ keys: store, oidc, logger: createSilentLogger() }).authenticate(undefined))).toBe(
      'missing credentials: send Authorization: Bearer with an API key or an OIDC token',
    );
  });
});

describe('Authenticator.stillValid', () => {
  it('holds an API key valid while it is stored and not revoked, the operator\'s too', async () => {
    const { store, key } = await storeWithKey();
    const auth = createAuthenticator({ keys: store, logger: createSilentLogger() });
    const principal = await auth.authenticate(`Bearer ${key}`);
    expect(await auth.stillValid(principal)).toBe(true);
    await store.revoke(principal.keyId!, new Date(1));
    expect(await auth.stillValid(principal)).toBe(false);

    const operator = await storeWithKey(true);
    const operatorAuth = createAuthenticator({ keys: operator.store, logger: createSilentLogger() });
    const operatorPrincipal = await operatorAuth.authenticate(`Bearer ${operator.key}`);
    expect(await operatorAuth.stillValid(operatorPrincipal)).toBe(true);
    // Rotating the configured bootstrap key retires the old one.
    await operator.store.upsertOperator({ id: 'rotated00000', name: 'bootstrap', tenant: 'acme', scopes: ['admin'], secretHash: hashSecret('x'), operator: true, createdAt: new Date(2) });
    expect(await operatorAuth.stillValid(operatorPrincipal)).toBe(false);
  });

  it('ends an operator principal whose id now stands for another secret, tenant or scopes (the gateway re-configured)', async () => {
    const operator = await storeWithKey(true);
    const auth = createAuthenticator({ keys: operator.store, logger: createSilentLogger() });
    const principal = await auth.authenticate(`Bearer ${operator.key}`);
    const stored = (await operator.store.get(principal.keyId!))!;
    await operator.store.upsertOperator({ ...stored, secretHash: hashSecret('another secret') });
    expect(await auth.stillValid(principal)).toBe(false);
    await operator.store.upsertOperator({ ...stored, tenant: 'globex' });
    expect(await auth.stillValid(principal)).toBe(false);
    await operator.store.upsertOperator({ ...stored, scopes: ['read'] });
    expect(await auth.stillValid(principal)).toBe(false);
    await operator.store.upsertOperator(stored);
    expect(await auth.stillValid(principal)).toBe(true);
  });

  it('holds an OIDC principal valid until its expiry on the clock', async () => {
    const clock = new ManualClock(1_000);
    const auth = createAuthenticator({ oidc, clock, logger: createSilentLogger() });
    const principal = { ...(await auth.authenticate(`Bearer ${jwt}`)), expiresAtMs: 5_000 };
    expect(await auth.stillValid(principal)).toBe(true);
    clock.advance(3_999);
    expect(await auth.stillValid(principal)).toBe(true);
    clock.advance(1);
    expect(await auth.stillValid(principal)).toBe(false);
  });

  it('passes a key store failure on to the caller', async () => {
    const { store, key } = await storeWithKey();
    const auth = createAuthenticator({ keys: store, logger: createSilentLogger() });
    const principal = await auth.authenticate(`Bearer ${key}`);
    store.get = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    await expect(auth.stillValid(principal)).rejects.toThrow('ECONNREFUSED');
  });
});
