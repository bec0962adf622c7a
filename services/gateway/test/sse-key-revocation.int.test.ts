/**
 * An open event stream against the real PostgreSQL key store: a key revoked through
 * `DELETE /v1/keys/:id` while its stream is open ends that stream at once (the revocation is
 * announced), or at the next heartbeat when the announcement is lost, with the `unauthenticated`
 * event, and another key's stream goes on. With two gateway replicas on the real NATS, a key
 * revoked through one ends its streams on the other at once, without a heartbeat.
 */
import { randomBytes } from 'node:crypto';
import { connectBus, type Bus } from '@maestro/bus';
import { createDb, migrateToLatest, type Kysely } from '@maestro/db';
import { createSilentLogger, Registry, type ManualClock } from '@maestro/runtime';
import { createTestDatabase, testBusSigningKey, testServers, type TestDatabase } from '@maestro/testing';
import { generateApiKey, hashSecret } from '../src/auth/api-key.js';
import { GATEWAY_SCHEMA, loadGatewayMigrations } from '../src/auth/api-key-migrations.js';
import { createAuthenticator } from '../src/auth/authenticator.js';
import { PostgresApiKeyStore, type GatewayTables } from '../src/auth/postgres-api-key-store.js';
import type { Scope } from '../src/auth/principal.js';
import { BusKeyRevocations } from '../src/transport/nats/key-revocations.js';
import { bearer } from './auth.js';
import { createFakeUpstreams, depsOf } from './fakes/index.js';
import { serve } from './serve.js';
import { readUntil } from './read-sse.js';

const heartbeatMs = 15_000;

let database: TestDatabase;
let db: Kysely<GatewayTables>;

beforeAll(async () => {
  database = await createTestDatabase('gateway_sse_keys');
  db = createDb<GatewayTables>({ url: database.url, applicationName: 'gateway-sse-keys-test' });
  await migrateToLatest(db, { schema: GATEWAY_SCHEMA, migrations: loadGatewayMigrations(), logger: createSilentLogger() });
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** A key of tenant `default` stored in `store`. */
async function keyIn(store: PostgresApiKeyStore, name: string, scopes: Scope[], at: Date): Promise<{ id: string; key: string }> {
  const generated = generateApiKey();
  await store.create({ id: generated.keyId, name, tenant: 'default', scopes, secretHash: hashSecret(generated.secret), operator: false, createdAt: at });
  return { id: generated.keyId, key: generated.key };
}

describe('open event streams over the PostgreSQL key store', () => {
  /** Opens a stream on one gateway, revokes a key through it, and checks that only that key's stream ends. */
  async function revokeWhileStreaming(options: { announcements: 'local' | 'lost'; afterRevoke(clock: ManualClock): void }): Promise<void> {
    const store = new PostgresApiKeyStore(db);
    const fakes = createFakeUpstreams();
    const authenticator = createAuthenticator({ keys: store, clock: fakes.clock, logger: createSilentLogger() });
    const lost = { announce: () => Promise.resolve(), listen: () => () => undefined };
    const app = await serve(depsOf(fakes, { sseHeartbeatMs: heartbeatMs, auth: { authenticator, keys: store }, ...(options.announcements === 'lost' ? { keyRevocations: lost } : {}) }));
    const abort = new AbortController();
    const keyOf = (name: string, scopes: Scope[]): Promise<{ id: string; key: string }> => keyIn(store, name, scopes, new Date(fakes.clock.now()));
    try {
      const admin = await keyOf('admin', ['admin']);
      const viewer = await keyOf('viewer', ['read']);
      const other = await keyOf('other viewer', ['read']);
      const open = async (key: string): Promise<ReadableStreamDefaultReader<Uint8Array>> => {
        const response = await globalThis.fetch(`${app.url}/v1/events`, { headers: bearer(key), signal: abort.signal });
        expect(response.status).toBe(200);
        return response.body!.getReader();
      };
      const revoked = await open(viewer.key);
      const kept = await open(other.key);
      await until(() => fakes.hub.lifecycleListenerCount === 2);

      expect((await globalThis.fetch(`${app.url}/v1/keys/${viewer.id}`, { method: 'DELETE', headers: bearer(admin.key) })).status).toBe(200);
      options.afterRevoke(fakes.clock);
      const ended = await readUntil(revoked, () => false);
      expect(ended.ended).toBe(true);
      expect(ended.text).toContain('event: unauthenticated\ndata: {"code":"UNAUTHENTICATED","message":"credentials revoked"}\n');
      await until(() => fakes.hub.lifecycleListenerCount === 1);

      fakes.hub.dispatch({ subject: 'maestro.events.run.started', payload: { runId: 'r1', tenant: 'default' } });
      const going = await readUntil(kept, (t) => t.includes('run.started'));
      expect(going.ended).toBe(false);
      expect(going.text).not.toContain('unauthenticated');
    } finally {
      abort.abort();
      await app.close();
    }
  }

  it('ends the stream of a key revoked through the API at once, and only that one', async () => {
    // The clock never moves: no heartbeat, only the revocation's announcement within the gateway.
    await revokeWhileStreaming({ announcements: 'local', afterRevoke: () => undefined });
  });

  it('ends it at the next heartbeat when the announcement is lost', async () => {
    await revokeWhileStreaming({ announcements: 'lost', afterRevoke: (clock) => clock.advance(heartbeatMs) });
  });

  it('ends the streams of a key revoked through another replica at once, over the bus, without a heartbeat', async () => {
    const store = new PostgresApiKeyStore(db);
    const namespace = `gwkeys${randomBytes(4).toString('hex')}`;
    const buses: Bus[] = [];
    const replica = async (name: string): Promise<{ fakes: ReturnType<typeof createFakeUpstreams>; app: Awaited<ReturnType<typeof serve>>; revocations: BusKeyRevocations }> => {
      const bus = await connectBus({ url: testServers.natsUrl, name, logger: createSilentLogger(), namespace, metrics: new Registry(), signing: { key: testBusSigningKey } });
      buses.push(bus);
      const revocations = new BusKeyRevocations(bus);
      await bus.connection.flush();
      const fakes = createFakeUpstreams();
      const authenticator = createAuthenticator({ keys: store, clock: fakes.clock, logger: createSilentLogger() });
      // A heartbeat that never comes in this test: only the announcement can end the stream.
      const app = await serve(depsOf(fakes, { sseHeartbeatMs: 3_600_000, auth: { authenticator, keys: store }, keyRevocations: revocations }));
      return { fakes, app, revocations };
    };
    const a = await replica('gateway-a');
    const b = await replica('gateway-b');
    const abort = new AbortController();
    try {
      const admin = await keyIn(store, 'admin', ['admin'], new Date());
      const viewer = await keyIn(store, 'viewer', ['read'], new Date());
      const other = await keyIn(store, 'other viewer', ['read'], new Date());
      const open = async (key: string): Promise<ReadableStreamDefaultReader<Uint8Array>> => {
        const response = await globalThis.fetch(`${b.app.url}/v1/events`, { headers: bearer(key), signal: abort.signal });
        expect(response.status).toBe(200);
        return response.body!.getReader();
      };
      const revoked = await open(viewer.key);
      const kept = await open(other.key);
      await until(() => b.fakes.hub.lifecycleListenerCount === 2);

      // Revoked through replica A; replica B's clock never moves.
      expect((await globalThis.fetch(`${a.app.url}/v1/keys/${viewer.id}`, { method: 'DELETE', headers: bearer(admin.key) })).status).toBe(200);
      const ended = await readUntil(revoked, () => false);
      expect(ended.ended).toBe(true);
      expect(ended.text).toContain('event: unauthenticated\ndata: {"code":"UNAUTHENTICATED","message":"credentials revoked"}\n');
      await until(() => b.fakes.hub.lifecycleListenerCount === 1);

      b.fakes.hub.dispatch({ subject: 'maestro.events.run.started', payload: { runId: 'r1', tenant: 'default' } });
      const going = await readUntil(kept, (t) => t.includes('run.started'));
      expect(going.ended).toBe(false);
      expect(going.text).not.toContain('unauthenticated');
    } finally {
      abort.abort();
      await Promise.all([a.app.close(), b.app.close()]);
      for (const r of [a, b]) r.revocations.close();
      await Promise.all(buses.map((bus) => bus.close()));
    }
  });
});
