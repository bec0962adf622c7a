/**
 * The OIDC verifier against a real JWKS endpoint: a local HTTP server publishing the public key
 * of a key pair generated here, fetched by jose's remote key set as in production. Time is the
 * test's ManualClock, so expiry and skew are exact.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { ManualClock, OperationalError } from '@maestro/runtime';
import { AuthError } from './auth-errors.js';
import { createOidcVerifier, type OidcVerifier } from './oidc-verifier.js';

const issuer = 'https://id.example.test/';
const audience = 'maestro-gateway';
const now = Date.parse('2030-01-02T03:04:05.000Z');
const seconds = (ms: number): number => Math.floor(ms / 1000);

let server: Server;
let jwksUrl: string;
let rsa: { publicKey: CryptoKey; privateKey: CryptoKey };
let ec: { publicKey: CryptoKey; privateKey: CryptoKey };
let stranger: { publicKey: CryptoKey; privateKey: CryptoKey };
let clock: ManualClock;
let verifier: OidcVerifier;

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  stranger = await generateKeyPair('RS256', { extractable: true });
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  clock = new ManualClock(now);
  verifier = createOidcVerifier({ issuer, audience, jwksUrl, clockSkewS: 60, clock });
});

const claims = (extra: JWTPayload = {}): JWTPayload => ({
  sub: 'alice',
  tenant: 'acme',
  scope: 'openid maestro:read maestro:submit profile',
  iat: seconds(now),
  exp: seconds(now) + 300,
  ...extra,
});

function sign(payload: JWTPayload, key: CryptoKey | Uint8Array = rsa.privateKey, header: { alg: string; kid?: string } = { alg: 'RS256', kid: 'rsa-1' }): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).setIssuer(String(payload.iss ?? issuer)).setAudience(payload.aud ?? audience).sign(key);
}

async function refusal(token: string): Promise<AuthError> {
  const err = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  expect((err as AuthError).status).toBe(401);
  expect((err as AuthError).code).toBe('UNAUTHENTICATED');
  expect((err as AuthError).message).not.toContain(token);
  return err as AuthError;
}

describe('createOidcVerifier', () => {
  it('accepts a valid RS256 token: tenant from its claim, maestro scopes from `scope`, subject from `sub`', async () => {
    // It is valid until exp plus the 60 s skew: a stream opened with it ends then.
    expect(await verifier.verify(await sign(claims()))).toEqual({ tenant: 'acme', scopes: ['read', 'submit'], subject: 'alice', via: 'oidc', expiresAtMs: (seconds(now) + 300 + 60) * 1000 });
  });

  it('accepts ES256 tokens from the same key set', async () => {
    const token = await sign(claims({ scope: 'maestro:admin' }), ec.privateKey, { alg: 'ES256', kid: 'ec-1' });
    expect(await verifier.verify(token)).toMatchObject({ tenant: 'acme', scopes: ['admin'] });
  });

  it('accepts a token that expired less than the clock skew ago', async () => {
    const token = await sign(claims({ exp: seconds(now) - 30 }));
    expect(await verifier.verify(token)).toMatchObject({ tenant: 'acme' });
  });

  it('refuses a token that expired longer ago than the skew', async () => {
    const token = await sign(claims({ exp: seconds(now) + 300 }));
    clock.advance(361_000);
    expect((await refusal(token)).message).toBe('token expired');
  });

  it('refuses a token not valid before a time beyond the skew', async () => {
    expect((await refusal(await sign(claims({ nbf: seconds(now) + 120 })))).message).toBe('token refused: token not yet valid');
  });

  it('refuses a token of another issuer', async () => {
    expect((await refusal(await sign(claims({ iss: 'https://evil.example.test/' }))))).toMatchObject({ message: 'token refused: wrong issuer' });
  });

  it('refuses a token for another audience', async () => {
    expect((await refusal(await sign(claims({ aud: 'another-api' }))))).toMatchObject({ message: 'token refused: wrong audience' });
  });

  it('refuses a token signed by a key the provider does not publish, even under a published kid', async () => {
    const token = await sign(claims(), stranger.privateKey);
    expect((await refusal(token)).message).toBe('token refused: signature not valid for the identity provider\'s keys');
  });

  it('refuses an unsigned token (alg none)', async () => {
    const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims(), iss: issuer, aud: audience })}.`;
    expect((await refusal(token)).message).toMatch(/^token refused: /);
  });

  it('refuses HS256 signed with the provider\'s public key as the secret (algorithm confusion)', async () => {
    const publicPem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const token = await sign(claims(), publicPem, { alg: 'HS256', kid: 'rsa-1' });
    expect((await refusal(token)).message).toBe('token refused: algorithm not allowed (use RS256, ES256, EdDSA)');
  });

  it('refuses a token without the tenant claim, naming the claim', async () => {
    const { tenant: _tenant, ...withoutTenant } = claims();
    expect((await refusal(await sign(withoutTenant))).message).toBe('token refused: it has no tenant claim naming the tenant');
  });

  it('refuses a token whose tenant claim is not a tenant name the services accept', async () => {
    expect((await refusal(await sign({ ...claims(), tenant: 'Acme.Corp' }))).message).toMatch(/^token refused: its tenant claim is not a tenant name \(must be a tenant name/);
  });

  it('reads the tenant from the configured claim', async () => {
    const custom = createOidcVerifier({ issuer, audience, jwksUrl, clock, tenantClaim: 'org' });
    expect(await custom.verify(await sign(claims({ org: 'globex' })))).toMatchObject({ tenant: 'globex' });
  });

  it('refuses a token without exp (it would never end)', async () => {
    const { exp: _exp, ...withoutExp } = claims();
    await refusal(await sign(withoutExp));
  });

  it('answers an unreachable key endpoint with a transient error, not a refusal', async () => {
    const unreachable = createOidcVerifier({ issuer, audience, jwksUrl: 'http://127.0.0.1:9/jwks.json', clock });
    await expect(unreachable.verify(await sign(claims()))).rejects.toBeInstanceOf(OperationalError);
  });
});
