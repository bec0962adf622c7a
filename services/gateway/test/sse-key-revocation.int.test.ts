/**
 * An open event stream against the real PostgreSQL key store: a key revoked through
 * `DELETE /v1/keys/:id` while its stream is open ends that stream at the next heartbeat, with
 * the `unauthenticated` event, and another key's stream goes on.
 */
import { createDb, migrateToLatest, type Kysely } from '@maestro/db';
import { createSilentLogger } from '@maestro/runtime';
import { createTestDatabase, type TestDatabase } from '@maestro/testing';
import { generateApiKey, hashSecret } from '../src/auth/api-key.js';
import { GATEWAY_SCHEMA, loadGatewayMigrations } from '../src/auth/api-key-migrations.js';
import { createAuthenticator } from '../src/auth/authenticator.js';
import { PostgresApiKeyStore, type GatewayTables } from '../src/auth/postgres-api-key-store.js';
import type { Scope } from '../src/auth/principal.js';
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

describe('open event streams over the PostgreSQL key store', () => {
  it('ends the stream of a key revoked through the API at the next heartbeat, and only that one', async () => {
    const store = new PostgresApiKeyStore(db);
    const fakes = createFakeUpstreams();
    const authenticator = createAuthenticator({ keys: store, clock: fakes.clock, logger: createSilentLogger() });
    const app = await serve(depsOf(fakes, { sseHeartbeatMs: heartbeatMs, auth: { authenticator, keys: store } }));
    const abort = new AbortController();
    const keyOf = async (name: string, scopes: Scope[]): Promise<{ id: string; key: string }> => {
      const generated = generateApiKey();
      await store.create({ id: generated.keyId, name, tenant: 'default', scopes, secretHash: hashSecret(generated.secret), operator: false, createdAt: new Date(fakes.clock.now()) });
      return { id: generated.keyId, key: generated.key };
    };
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
      fakes.clock.advance(heartbeatMs);
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
  });
});
