/**
 * Many open streams re-checking their keys through one SharedKeyRechecks, on a ManualClock. The
 * streams are the real ones' watch and heartbeat (credential-watch.ts, heartbeat.ts, wired as
 * sse-stream.ts wires them), the answers come from the real Authenticator over an in-memory key
 * store that counts its reads and can be made to fail or hang as PostgreSQL can.
 */
import { createSilentLogger, ManualClock, type Timer } from '@maestro/runtime';
import { RecordingLogger } from '../../test/recording-logger.js';
import { CredentialLapse, watchCredentials } from '../transport/http/credential-watch.js';
import { startHeartbeat } from '../transport/http/heartbeat.js';
import { formatApiKey, generateApiKey, hashSecret } from './api-key.js';
import type { ApiKeyRecord } from './api-key-store.js';
import { createAuthenticator, type Authenticator } from './authenticator.js';
import { InMemoryApiKeyStore } from './in-memory-api-key-store.js';
import type { Principal } from './principal.js';
import { KEY_RECHECKS_FAILED, SharedKeyRechecks } from './shared-key-rechecks.js';

const heartbeatMs = 15_000;

/** The key store as the re-checks see it: its reads are counted, and it can fail or hang. */
class ObservedKeyStore extends InMemoryApiKeyStore {
  /** The key ids read, in order. */
  reads: string[] = [];
  state: 'up' | 'failing' | 'hanging' = 'up';

  override async get(id: string): Promise<ApiKeyRecord | undefined> {
    this.reads.push(id);
    if (this.state === 'failing') throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    if (this.state === 'hanging') return new Promise<never>(() => undefined);
    return super.get(id);
  }
}

/** One open stream: when it opened, whether and when its credential lapsed. */
interface Stream {
  openedAtMs: number;
  lapse?: CredentialLapse;
  endedAtMs?: number;
}

/** Lets the re-checks' promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

function setup(): {
  clock: ManualClock;
  store: ObservedKeyStore;
  authenticator: Authenticator;
  logger: RecordingLogger;
  newKey(): Promise<{ id: string; principal: Principal }>;
  open(principal: Principal): Stream;
  runUntil(atMs: number): Promise<void>;
  checksAsked(): number;
  /** What hearing a revocation announced on the bus does (the app's listener). */
  announceRevoked(keyId: string): void;
} {
  const clock = new ManualClock(0);
  const store = new ObservedKeyStore();
  const authenticator = createAuthenticator({ keys: store, clock, logger: createSilentLogger() });
  const logger = new RecordingLogger();
  const rechecks = new SharedKeyRechecks({ credentials: authenticator, clock, logger, periodMs: heartbeatMs });
  let asked = 0;
  const credentials = {
    stillValid: (principal: Principal) => {
      asked++;
      return rechecks.stillValid(principal);
    },
    checkFailed: (err: unknown) => rechecks.checkFailed(err),
    onRevoked: (principal: Principal, onRevoked: () => void) => rechecks.onRevoked(principal, onRevoked),
  };
  return {
    clock,
    store,
    authenticator,
    logger,
    async newKey() {
      const generated = generateApiKey();
      await store.create({ id: generated.keyId, name: 'viewer', tenant: 'acme', scopes: ['read'], secretHash: hashSecret(generated.secret), operator: false, createdAt: new Date(0) });
      const principal = await authenticator.authenticate(`Bearer ${generated.key}`);
      return { id: generated.keyId, principal };
    },
    open(principal) {
      const stream: Stream = { openedAtMs: clock.now() };
      let heartbeat: Timer | undefined;
      const watch = watchCredentials({
        principal,
        credentials,
        clock,
        logger: createSilentLogger(),
        onLapse: (lapse) => {
          stream.lapse = lapse;
          stream.endedAtMs = clock.now();
          heartbeat?.cancel();
        },
        checkTimeoutMs: heartbeatMs,
      });
      heartbeat = startHeartbeat(clock, heartbeatMs, () => watch.check());
      return stream;
    },
    // In steps shorter than the streams' spacing, so each heartbeat's check settles before the next one fires.
    async runUntil(atMs) {
      while (clock.now() < atMs) {
        clock.advance(Math.min(50, atMs - clock.now()));
        await settle();
      }
    },
    checksAsked: () => asked,
    announceRevoked: (keyId) => rechecks.revoked(keyId),
  };
}

/** Opens `count` streams of `principal`, one every `spacingMs` from now. */
async function openSpread(env: ReturnType<typeof setup>, principal: Principal, count: number, spacingMs: number): Promise<Stream[]> {
  const streams: Stream[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await env.runUntil(env.clock.now() + spacingMs);
    streams.push(env.open(principal));
  }
  return streams;
}

describe('SharedKeyRechecks', () => {
  it('answers 100 streams of one key, their heartbeats spread over the period, with one key-store read per period', async () => {
    const env = setup();
    const { id, principal } = await env.newKey();
    env.store.reads = [];
    // Opened 150 ms apart: the streams' heartbeats fall all over each 15 s period.
    const streams = await openSpread(env, principal, 100, 150);
    await env.runUntil(4 * heartbeatMs - 1);
    expect(env.checksAsked()).toBe(300);
    expect(env.store.reads).toEqual([id, id, id]);
    expect(streams.filter((stream) => stream.lapse !== undefined)).toEqual([]);
  });

  it('ends all 100 streams of a key revoked between two heartbeats at the next one, with one read', async () => {
    const env = setup();
    const { id, principal } = await env.newKey();
    const streams = Array.from({ length: 100 }, () => env.open(principal));
    await env.runUntil(heartbeatMs);
    expect(streams.filter((stream) => stream.lapse !== undefined)).toEqual([]);
    env.store.reads = [];

    await env.store.revoke(id, new Date(env.clock.now()));
    await env.runUntil(2 * heartbeatMs);
    expect(streams.map((stream) => [stream.lapse, stream.endedAtMs])).toEqual(Array.from({ length: 100 }, () => [CredentialLapse.revoked, 2 * heartbeatMs]));
    expect(env.store.reads).toEqual([id]);
  });

  it('ends every stream of a revoked key at the first heartbeat after the revocation or the one after it, never later', async () => {
    const env = setup();
    const { id, principal } = await env.newKey();
    const streams = await openSpread(env, principal, 100, 150);
    // Mid-period: the streams whose heartbeats come next share a lookup that started before it.
    await env.runUntil(20_000);
    const revokedAtMs = env.clock.now();
    await env.store.revoke(id, new Date(revokedAtMs));
    await env.runUntil(revokedAtMs + 2 * heartbeatMs);
    const late = streams.map((stream) => {
      const firstBeatAfter = stream.openedAtMs + Math.ceil((revokedAtMs - stream.openedAtMs) / heartbeatMs) * heartbeatMs;
      expect(stream.lapse).toBe(CredentialLapse.revoked);
      return (stream.endedAtMs! - firstBeatAfter) / heartbeatMs;
    });
    // Streams 0-33 beat first after the revocation's lookup started and end at once; 34-99 got
    // the answer of a lookup started before it and end one heartbeat later.
    expect(late).toEqual([...Array.from({ length: 34 }, () => 0), ...Array.from({ length: 66 }, () => 1)]);
  });

  it('ends all 100 streams of a key announced revoked at once, with one fresh read, and none of another key', async () => {
    const env = setup();
    const { id, principal } = await env.newKey();
    const other = await env.newKey();
    const streams = Array.from({ length: 100 }, () => env.open(principal));
    const others = Array.from({ length: 10 }, () => env.open(other.principal));
    // Mid-period, right after a shared lookup said the key is valid: that answer must not be reused.
    await env.runUntil(heartbeatMs + 1_000);
    env.store.reads = [];
    const revokedAtMs = env.clock.now();
    await env.store.revoke(id, new Date(revokedAtMs));
    env.announceRevoked(id);
    await settle();
    expect(streams.map((stream) => [stream.lapse, stream.endedAtMs])).toEqual(Array.from({ length: 100 }, () => [CredentialLapse.revoked, revokedAtMs]));
    expect(env.store.reads).toEqual([id]);
    expect(others.filter((stream) => stream.lapse !== undefined)).toEqual([]);
  });

  it('ends nothing on an announcement the key store does not bear out', async () => {
    const env = setup();
    const { id, principal } = await env.newKey();
    const streams = Array.from({ length: 10 }, () => env.open(principal));
    env.announceRevoked(id);
    await settle();
    await env.runUntil(2 * heartbeatMs);
    expect(streams.filter((stream) => stream.lapse !== undefined)).toEqual([]);
  });

  it('keeps every stream open while the key store fails, logging one warning per period with the failed checks', async () => {
    const env = setup();
    const { id, principal } = await env.newKey();
    env.store.reads = [];
    env.store.state = 'failing';
    const streams = await openSpread(env, principal, 100, 150);
    await env.runUntil(3 * heartbeatMs - 1);

    expect(streams.filter((stream) => stream.lapse !== undefined)).toEqual([]);
    // One failed read per period, shared by the streams that checked in it: a failure, not a revocation.
    expect(env.store.reads).toEqual([id, id]);
    const warnings = env.logger.lines.filter((line) => line.level === 'warn');
    // The first failure at once, then the 99 after it and the first of the next period.
    expect(warnings.map((line) => [line.message, line.fields['failedChecks']])).toEqual([
      [KEY_RECHECKS_FAILED, 1],
      [KEY_RECHECKS_FAILED, 100],
    ]);
    expect(warnings[0]!.fields['err']).toEqual(new Error('connect ECONNREFUSED 127.0.0.1:5432'));

    // The store is back: the next period's lookup answers, the streams go on, nothing more is logged.
    env.store.state = 'up';
    await env.runUntil(5 * heartbeatMs - 1);
    expect(streams.filter((stream) => stream.lapse !== undefined)).toEqual([]);
    expect(env.store.reads).toEqual([id, id, id, id]);
    expect(env.logger.lines.filter((line) => line.level === 'warn')).toHaveLength(2);
  });

  it('counts a lookup that never answers as failed at the next heartbeat, and does not share it after the period', async () => {
    const env = setup();
    const { id, principal } = await env.newKey();
    env.store.reads = [];
    const streams = Array.from({ length: 100 }, () => env.open(principal));
    env.store.state = 'hanging';
    await env.runUntil(2 * heartbeatMs);
    expect(env.logger.lines.filter((line) => line.level === 'warn').map((line) => line.fields['err'])).toEqual([
      new Error(`the key store did not answer within ${heartbeatMs} ms`),
    ]);
    expect(streams.filter((stream) => stream.lapse !== undefined)).toEqual([]);

    // Revoked while the hung read is still out: a new read sees it.
    env.store.state = 'up';
    await env.store.revoke(id, new Date(env.clock.now()));
    await env.runUntil(3 * heartbeatMs);
    expect(streams.every((stream) => stream.lapse === CredentialLapse.revoked)).toBe(true);
    expect(env.store.reads).toEqual([id, id]);
  });

  it('reads each key once per period when streams of two keys are open, and ends only the revoked key\'s, at its next heartbeat', async () => {
    const env = setup();
    const a = await env.newKey();
    const b = await env.newKey();
    env.store.reads = [];
    const streamsOfA = Array.from({ length: 50 }, () => env.open(a.principal));
    await env.runUntil(5_000);
    const streamsOfB = Array.from({ length: 50 }, () => env.open(b.principal));
    await env.runUntil(heartbeatMs + 5_000);
    expect(env.store.reads).toEqual([a.id, b.id]);

    // B's lookup of 20 s is exactly one period old at B's next heartbeat: too old to share.
    await env.store.revoke(b.id, new Date(env.clock.now()));
    await env.runUntil(2 * heartbeatMs + 5_000);
    expect(streamsOfB.map((stream) => [stream.lapse, stream.endedAtMs])).toEqual(Array.from({ length: 50 }, () => [CredentialLapse.revoked, 2 * heartbeatMs + 5_000]));
    expect(streamsOfA.filter((stream) => stream.lapse !== undefined)).toEqual([]);
    expect(env.store.reads).toEqual([a.id, b.id, a.id, b.id]);
  });

  it('does not share one key id\'s lookup between streams opened with different versions of the key', async () => {
    const env = setup();
    const old = generateApiKey();
    const operator = { id: old.keyId, name: 'bootstrap (operator)', tenant: 'acme', scopes: ['admin' as const], operator: true, createdAt: new Date(0) };
    await env.store.upsertOperator({ ...operator, secretHash: hashSecret(old.secret) });
    const oldPrincipal = await env.authenticator.authenticate(`Bearer ${old.key}`);
    // The operator key re-configured: the same id now stands for another secret.
    const current = generateApiKey();
    await env.store.upsertOperator({ ...operator, secretHash: hashSecret(current.secret) });
    const currentPrincipal = await env.authenticator.authenticate(`Bearer ${formatApiKey({ keyId: old.keyId, secret: current.secret })}`);
    env.store.reads = [];

    const oldStreams = Array.from({ length: 10 }, () => env.open(oldPrincipal));
    const currentStreams = Array.from({ length: 10 }, () => env.open(currentPrincipal));
    await env.runUntil(heartbeatMs);
    expect(oldStreams.every((stream) => stream.lapse === CredentialLapse.revoked)).toBe(true);
    expect(currentStreams.filter((stream) => stream.lapse !== undefined)).toEqual([]);
    expect(env.store.reads).toEqual([old.keyId, old.keyId]);
  });
});
