/**
 * Open event streams and their caller's credential, over real HTTP (`GET /v1/events`; the run
 * stream shares the same lifecycle, see sse.test.ts): a stream ends with an `unauthenticated`
 * event when its key is revoked or its token expires, and not otherwise.
 */
import { generateApiKey, hashSecret, parseApiKey } from '../../auth/api-key.js';
import { createAuthenticator } from '../../auth/authenticator.js';
import { unauthenticated } from '../../auth/auth-errors.js';
import { InMemoryApiKeyStore } from '../../auth/in-memory-api-key-store.js';
import { KEY_RECHECKS_FAILED } from '../../auth/shared-key-rechecks.js';
import type { ApiKeyRecord } from '../../auth/api-key-store.js';
import type { OidcVerifier } from '../../auth/oidc-verifier.js';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../../test/fakes/index.js';
import { serve, type ServedApp } from '../../../test/serve.js';
import { authedFetch, bearer } from '../../../test/auth.js';
import { RecordingLogger } from '../../../test/recording-logger.js';
import { readUntil } from '../../../test/read-sse.js';

const heartbeatMs = 15_000;

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Lets a heartbeat's re-check (a promise) run to its end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

const heartbeats = (text: string): number => (text.match(/: heartbeat\n/g) ?? []).length;

function events(text: string): Array<[string, unknown]> {
  return [...text.matchAll(/event: (\S+)\ndata: (.*)\n/g)].map((m) => [m[1]!, JSON.parse(m[2]!)]);
}

/** A key store whose reads can be made to fail, as PostgreSQL's do when it is down. */
class FlakyKeyStore extends InMemoryApiKeyStore {
  failing = false;

  override async get(id: string): Promise<ApiKeyRecord | undefined> {
    if (this.failing) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    return super.get(id);
  }
}

describe('an open event stream and its API key', () => {
  let fakes: FakeUpstreams;
  let app: ServedApp;
  let logger: RecordingLogger;
  let abort: AbortController;

  beforeEach(async () => {
    abort = new AbortController();
    fakes = createFakeUpstreams();
    logger = new RecordingLogger();
    app = await serve(depsOf(fakes, { sseHeartbeatMs: heartbeatMs, logger }));
  });

  afterEach(async () => {
    abort.abort();
    await app.close();
  });

  async function open(key: string): Promise<ReadableStreamDefaultReader<Uint8Array>> {
    const response = await authedFetch(key)(`${app.url}/v1/events`, { signal: abort.signal });
    expect(response.status).toBe(200);
    return response.body!.getReader();
  }

  it('ends with an unauthenticated event at the first heartbeat after the key is revoked, logging whose it was', async () => {
    const key = await fakes.auth.keyFor(['read']);
    // Parsed, not split at '_': a key id is base64url and may hold '_' itself.
    const keyId = parseApiKey(key)!.keyId;
    const reader = await open(key);
    await until(() => fakes.hub.lifecycleListenerCount === 1);
    fakes.clock.advance(heartbeatMs);
    await readUntil(reader, (t) => heartbeats(t) === 1);

    await fakes.auth.store.revoke(keyId, new Date(fakes.clock.now()));
    // Best-effort within a heartbeat: until the next one, events still flow.
    fakes.hub.dispatch({ subject: 'maestro.events.task.updated', payload: { taskId: 't1', tenant: 'default', status: 'running' } });
    fakes.clock.advance(heartbeatMs);
    const { text, ended } = await readUntil(reader, () => false);
    expect(ended).toBe(true);
    expect(events(text)).toEqual([
      ['task.updated', { taskId: 't1', tenant: 'default', status: 'running' }],
      ['unauthenticated', { code: 'UNAUTHENTICATED', message: 'credentials revoked' }],
    ]);
    await until(() => fakes.hub.lifecycleListenerCount === 0);
    expect(fakes.clock.pendingTimers).toBe(0);

    const logged = logger.find('event stream ended: credentials no longer accepted');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.level).toBe('info');
    expect(logged[0]!.fields).toMatchObject({ keyId, subject: `key:${keyId}`, reason: 'credentials revoked' });
    expect(JSON.stringify(logger.lines)).not.toContain(key);

    // A reconnect with the same key is refused, so a client signs in again.
    expect((await authedFetch(key)(`${app.url}/v1/events`)).status).toBe(401);
  });

  it('keeps streaming while the key is valid', async () => {
    const reader = await open(await fakes.auth.keyFor(['read']));
    await until(() => fakes.hub.lifecycleListenerCount === 1);
    for (let beat = 1; beat <= 4; beat++) {
      fakes.clock.advance(heartbeatMs);
      await settle();
    }
    fakes.hub.dispatch({ subject: 'maestro.events.run.started', payload: { runId: 'r1', tenant: 'default' } });
    const { text, ended } = await readUntil(reader, (t) => t.includes('run.started'));
    expect(ended).toBe(false);
    expect(heartbeats(text)).toBe(4);
    expect(events(text).map(([name]) => name)).toEqual(['run.started']);
    expect(fakes.hub.lifecycleListenerCount).toBe(1);
  });

  it('ends the operator key\'s stream once the configured bootstrap key is rotated (which revokes the old one)', async () => {
    const reader = await open(await fakes.auth.keyFor(['admin'], { operator: true }));
    await until(() => fakes.hub.lifecycleListenerCount === 1);
    const rotated = generateApiKey();
    await fakes.auth.store.upsertOperator({ id: rotated.keyId, name: 'bootstrap (operator)', tenant: 'default', scopes: ['admin'], secretHash: hashSecret(rotated.secret), operator: true, createdAt: new Date(fakes.clock.now()) });
    fakes.clock.advance(heartbeatMs);
    const { text, ended } = await readUntil(reader, () => false);
    expect(ended).toBe(true);
    expect(events(text)).toEqual([['unauthenticated', { code: 'UNAUTHENTICATED', message: 'credentials revoked' }]]);
  });
});

describe('an open event stream whose key store cannot be read', () => {
  it('stays open, logs the failure, and ends at a later heartbeat that sees the revocation', async () => {
    const fakes = createFakeUpstreams();
    const store = new FlakyKeyStore();
    const logger = new RecordingLogger();
    const authenticator = createAuthenticator({ keys: store, clock: fakes.clock, logger: new RecordingLogger() });
    const app = await serve(depsOf(fakes, { sseHeartbeatMs: heartbeatMs, logger, auth: { authenticator, keys: store } }));
    const abort = new AbortController();
    try {
      const generated = generateApiKey();
      await store.create({ id: generated.keyId, name: 'viewer', tenant: 'default', scopes: ['read'], secretHash: hashSecret(generated.secret), operator: false, createdAt: new Date(0) });
      const response = await globalThis.fetch(`${app.url}/v1/events`, { headers: bearer(generated.key), signal: abort.signal });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      await until(() => fakes.hub.lifecycleListenerCount === 1);

      store.failing = true;
      await store.revoke(generated.keyId, new Date(fakes.clock.now()));
      fakes.clock.advance(heartbeatMs);
      await settle();
      fakes.clock.advance(heartbeatMs);
      await settle();
      fakes.hub.dispatch({ subject: 'maestro.events.run.started', payload: { runId: 'r1', tenant: 'default' } });
      const first = await readUntil(reader, (t) => t.includes('run.started'));
      expect(first.ended).toBe(false);
      expect(heartbeats(first.text)).toBe(2);
      // One stream failing at each of two heartbeats a period apart: one warning each, counting it.
      const warnings = logger.lines.filter((line) => line.level === 'warn');
      expect(warnings.map((line) => [line.message, line.fields['failedChecks']])).toEqual([
        [KEY_RECHECKS_FAILED, 1],
        [KEY_RECHECKS_FAILED, 1],
      ]);

      store.failing = false;
      fakes.clock.advance(heartbeatMs);
      const rest = await readUntil(reader, () => false);
      expect(rest.ended).toBe(true);
      expect(events(rest.text)).toEqual([['unauthenticated', { code: 'UNAUTHENTICATED', message: 'credentials revoked' }]]);
    } finally {
      abort.abort();
      await app.close();
    }
  });
});

describe('an open event stream and its OIDC token', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
  const lifetimeMs = 40_000;

  it('ends with an unauthenticated event when the token expires, between heartbeats, and the token opens no new stream', async () => {
    const fakes = createFakeUpstreams();
    const expiresAtMs = fakes.clock.now() + lifetimeMs;
    // What the real verifier does with exp + skew (oidc-verifier.test.ts), on the fakes' clock.
    const oidc: OidcVerifier = {
      verify: async (token) => {
        if (token !== jwt) throw unauthenticated('token refused: signature not valid');
        if (fakes.clock.now() >= expiresAtMs) throw unauthenticated('token expired');
        return { tenant: 'default', scopes: ['read'], subject: 'alice', via: 'oidc', expiresAtMs };
      },
    };
    const logger = new RecordingLogger();
    const authenticator = createAuthenticator({ oidc, clock: fakes.clock, logger: new RecordingLogger() });
    const app = await serve(depsOf(fakes, { sseHeartbeatMs: heartbeatMs, logger, auth: { authenticator } }));
    const abort = new AbortController();
    try {
      const response = await globalThis.fetch(`${app.url}/v1/events`, { headers: bearer(jwt), signal: abort.signal });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      await until(() => fakes.hub.lifecycleListenerCount === 1);

      fakes.clock.advance(2 * heartbeatMs);
      await settle();
      fakes.clock.advance(lifetimeMs - 2 * heartbeatMs - 1);
      const before = await readUntil(reader, (t) => heartbeats(t) === 2);
      expect(before.ended).toBe(false);
      expect(fakes.hub.lifecycleListenerCount).toBe(1);

      fakes.clock.advance(1);
      const { text, ended } = await readUntil(reader, () => false);
      expect(ended).toBe(true);
      expect(events(text)).toEqual([['unauthenticated', { code: 'UNAUTHENTICATED', message: 'token expired' }]]);
      expect(logger.find('event stream ended: credentials no longer accepted')[0]!.fields).toMatchObject({ subject: 'alice', reason: 'token expired' });
      expect(JSON.stringify(logger.lines)).not.toContain(jwt);
      await until(() => fakes.hub.lifecycleListenerCount === 0);

      expect((await globalThis.fetch(`${app.url}/v1/events`, { headers: bearer(jwt) })).status).toBe(401);
    } finally {
      abort.abort();
      await app.close();
    }
  });
});
