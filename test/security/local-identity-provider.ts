/**
 * A stand-in OIDC identity provider for the security suite: a JWKS endpoint on 127.0.0.1 (any
 * free port) publishing one RS256 public key, and the tokens it (or an attacker) would mint.
 * Tokens are built with node:crypto, not with the verifier's own library, so a verifier that
 * read them the same wrong way it wrote them could not pass. A second "stranger" key pair is
 * never published: what it signs must be refused.
 */
import { createHmac, generateKeyPairSync, sign as signBytes, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A JWT's header fields this provider sets. */
export interface TokenHeader {
  alg: string;
  kid?: string;
  typ?: string;
}

/** Who signs a token: the published key, the unpublished stranger key, an HMAC secret, or nobody. */
export type TokenSigner =
  | { by: 'provider' }
  | { by: 'stranger'; kid: string }
  | { by: 'hmac'; secret: string | Buffer }
  | { by: 'none' };

/** A running provider: where its keys are, how to mint tokens, how many times its keys were read. */
export interface LocalIdentityProvider {
  /** The `iss` of its tokens (its own origin). */
  issuer: string;
  /** Where it publishes its signing keys. */
  jwksUrl: string;
  /** The `kid` of the published key. */
  kid: string;
  /** The published public key as PEM: the classic HS256 "secret" of a key-confusion attack. */
  publicKeyPem: string;
  /** Requests its JWKS endpoint answered. */
  readonly jwksRequests: number;
  /** A compact JWT of `claims` (nothing added), signed as `signer` says (the provider's key by default). */
  mint(claims: Record<string, unknown>, signer?: TokenSigner, header?: Partial<TokenHeader>): string;
  close(): Promise<void>;
}

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

function rsaKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** Starts the provider's JWKS endpoint. */
export async function startLocalIdentityProvider(): Promise<LocalIdentityProvider> {
  const provider = rsaKeyPair();
  const stranger = rsaKeyPair();
  const kid = 'idp-signing-1';
  const jwks = JSON.stringify({ keys: [{ ...provider.publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  let jwksRequests = 0;
  const server: Server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    jwksRequests++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer: `${origin}/`,
    jwksUrl: `${origin}/.well-known/jwks.json`,
    kid,
    publicKeyPem: provider.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    get jwksRequests() {
      return jwksRequests;
    },
    mint(claims, signer = { by: 'provider' }, header = {}) {
      const alg = signer.by === 'none' ? 'none' : signer.by === 'hmac' ? 'HS256' : 'RS256';
      const keyId = signer.by === 'provider' ? kid : signer.by === 'stranger' ? signer.kid : undefined;
      const fullHeader: TokenHeader = { alg, typ: 'JWT', ...(keyId !== undefined ? { kid: keyId } : {}), ...header };
      const input = `${base64url(JSON.stringify(fullHeader))}.${base64url(JSON.stringify(claims))}`;
      switch (signer.by) {
        case 'none':
          return `${input}.`;
        case 'hmac':
          return `${input}.${createHmac('sha256', signer.secret).update(input).digest('base64url')}`;
        case 'provider':
        case 'stranger': {
          const key = signer.by === 'provider' ? provider.privateKey : stranger.privateKey;
          // RSASSA-PKCS1-v1_5 with SHA-256: RS256.
          return `${input}.${signBytes('sha256', Buffer.from(input), key).toString('base64url')}`;
        }
      }
    },
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
