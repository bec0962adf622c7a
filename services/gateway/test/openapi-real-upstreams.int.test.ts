/**
 * The OpenAPI walk against the real upstreams of the definitions, runs and locks routes: the
 * workflow-engine (its wired service over a fresh PostgreSQL database and the real NATS) and the
 * lock-manager (its gRPC server over a Redis lock store with a private key prefix), both in this
 * process on 127.0.0.1 and reached through real gRPC clients. Every documented operation of
 * those routes answers a valid request with a documented status and a body matching the
 * documented schema, and a bad one (refused by the gateway or by the upstream itself) with a
 * documented 400 naming the field: what the engine and the lock-manager really answer, not what
 * the fakes play.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectBus, type Bus } from '@maestro/bus';
import { LockServiceClient, WorkflowServiceClient, type Run } from '@maestro/contracts';
import { createDb, type Kysely } from '@maestro/db';
import { createGrpcClient, createSilentLogger, Registry, type GrpcClient, type GrpcServer } from '@maestro/runtime';
import { createTestDatabase, testKeyPrefix, testNamespace, testServers, type TestDatabase } from '@maestro/testing';
// The real services, wired in this process from their own sources (as bench/ and test/e2e do).
import { createLockManagerServer } from '../../lock-manager/src/lock-manager-server.js';
import { RedisLockStore, type RedisLockStoreOptions } from '../../lock-manager/src/store/redis-lock-store.js';
import { createBusLockEventPublisher } from '../../lock-manager/src/transport/nats/lock-event.publisher.js';
import {
  createWorkflowEngineService,
  migrateWorkflowSchema,
  type WorkflowDatabase,
  type WorkflowEngineService,
} from '../../workflow-engine/src/index.js';
import { createFakeUpstreams, depsOf } from './fakes/index.js';
import type { ExampleRequest } from './openapi-examples.js';
import { expectDocumented, operationsOf, sendExample, type OpenApiDocument } from './openapi-walk.js';
import { serve, type ServedApp } from './serve.js';
import { authedFetch } from './auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

// The gateway does not depend on ioredis; the lock-manager's own copy is borrowed for its store.
const { Redis } = createRequire(join(__dirname, '../../lock-manager/package.json'))('ioredis') as {
  Redis: new (url: string, options?: { lazyConnect?: boolean }) => RedisLockStoreOptions['redis'];
};

const logger = createSilentLogger();
const walked = /^\/v1\/(definitions|runs|locks)\b/;
const concern = `file:/srv/walk-${randomUUID().slice(0, 8)}/src/cli.ts`;

let database: TestDatabase;
let db: Kysely<WorkflowDatabase>;
let bus: Bus;
let engine: WorkflowEngineService;
let redis: RedisLockStoreOptions['redis'];
let store: RedisLockStore;
let lockServer: GrpcServer;
let workflowClient: GrpcClient<WorkflowServiceClient>;
let lockClient: GrpcClient<LockServiceClient>;
let app: ServedApp;
let document: OpenApiDocument;
const waiting = new AbortController();
let waiter: Promise<unknown> | undefined;

beforeAll(async () => {
  database = await createTestDatabase('gateway_walk');
  db = createDb<WorkflowDatabase>({ url: database.url, maxConnections: 4 });
  await migrateWorkflowSchema(db, logger);
  bus = await connectBus({ url: testServers.natsUrl, name: 'gateway-walk', logger, namespace: testNamespace('gw'), streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();

  engine = createWorkflowEngineService({ address: '127.0.0.1:0', logger, db, bus, metrics: new Registry() });
  const workflowPort = await engine.start();

  redis = new Redis(testServers.redisUrl);
  store = new RedisLockStore({ redis, keyPrefix: testKeyPrefix('gateway-walk'), logger });
  lockServer = createLockManagerServer({ address: '127.0.0.1:0', logger, store, events: createBusLockEventPublisher(bus), metrics: new Registry() });
  const lockPort = await lockServer.start();

  workflowClient = createGrpcClient(WorkflowServiceClient, `127.0.0.1:${workflowPort}`, { deadlineMs: 10_000 });
  lockClient = createGrpcClient(LockServiceClient, `127.0.0.1:${lockPort}`, { deadlineMs: 10_000 });
  fakes = createFakeUpstreams();
  app = await serve(depsOf(fakes, { workflow: workflowClient.call, locks: lockClient.call, metrics: new Registry() }));
  document = (await (await fetch(`${app.url}/openapi.json`)).json()) as OpenApiDocument;
});

afterAll(async () => {
  waiting.abort();
  await waiter;
  await app?.close();
  workflowClient?.close();
  lockClient?.close();
  await lockServer?.shutdown();
  await store?.close();
  redis?.disconnect();
  await engine?.stop();
  await bus?.close();
  await db?.destroy();
  await database?.drop();
});

const gated = {
  id: 'gated',
  initial: 'plan',
  states: { plan: { on: { PLANNED: 'approve' } }, approve: { on: { APPROVED: 'done', REJECTED: 'plan' } }, done: { type: 'final' } },
};

let fakes: ReturnType<typeof createFakeUpstreams>;
/** The (fake orchestrator's) task the seeded leases are for: /v1/locks shows a tenant its own tasks' locks only. */
let lockTaskId = '';

async function startRun(version = 0): Promise<Run> {
  return workflowClient.call.startRun({ tenant: 'default', definitionName: 'gated', definitionVersion: version, input: { goal: 'walk' }, idempotencyKey: '' });
}

/** An example with the status it must get (a valid request may also be a documented 404/409). */
interface Case {
  request: ExampleRequest;
  status: number;
  /** For 400s: the field the error must name. */
  field?: string;
}

/** Seeds the real services and returns the cases of every walked operation. */
async function seed(): Promise<Record<string, Case[]>> {
  await workflowClient.call.putDefinition({ tenant: 'default', name: 'gated', definition: gated });
  await workflowClient.call.putDefinition({ tenant: 'default', name: 'gated', definition: { ...gated, states: { ...gated.states, plan: { on: { PLANNED: 'done' } } } } });
  const run = await startRun(1);
  await workflowClient.call.sendEvent({ tenant: 'default', runId: run.id, type: 'PLANNED', payload: {} });
  const cancellable = await startRun();
  const repo = mkdtempSync(join(tmpdir(), 'gateway-walk-repo-'));
  mkdirSync(join(repo, '.git'));
  lockTaskId = (await fakes.orchestrator.submitTask({ tenant: 'default', goal: 'hold a lock', repoPath: repo, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [] })).id;
  await store.acquire({ owner: `executor:executor-1:${lockTaskId}:s1`, concerns: [concern], sharedConcerns: [], ttlMs: 60_000, waitMs: 0 });
  waiter = store
    .acquire({ owner: `executor:executor-2:${lockTaskId}:s2`, concerns: [concern], sharedConcerns: [], ttlMs: 60_000, waitMs: 60_000 }, { signal: waiting.signal })
    .catch(() => undefined);
  const unknownRun = randomUUID();
  const review = { id: 'review', initial: 'review', states: { review: { on: { DONE: 'done' } }, done: { type: 'final' } } };

  return {
    'GET /v1/runs': [
      { request: { query: { definition: 'gated', version: '1' } }, status: 200 },
      { request: { query: { limit: '501' } }, status: 400, field: 'limit' },
      // Refused by the engine, named as the query names it.
      { request: { query: { pageToken: 'bogus' } }, status: 400, field: 'pageToken' },
    ],
    'GET /v1/runs/{id}': [
      { request: { params: { id: run.id } }, status: 200 },
      { request: { params: { id: unknownRun } }, status: 404 },
      { request: { params: { id: 'not-a-uuid' } }, status: 400, field: 'id' },
    ],
    'GET /v1/runs/{id}/history': [
      { request: { params: { id: run.id }, query: { afterSeq: '1' } }, status: 200 },
      { request: { params: { id: run.id }, query: { afterSeq: '-1' } }, status: 400, field: 'afterSeq' },
      { request: { params: { id: 'not-a-uuid' } }, status: 400, field: 'id' },
    ],
    'POST /v1/runs/{id}/events': [
      { request: { params: { id: run.id }, body: { type: 'APPROVED', payload: { by: 'alice' } } }, status: 200 },
      // The run has ended: the engine ignores the event and returns the run.
      { request: { params: { id: run.id }, body: { type: 'APPROVED' } }, status: 200 },
      { request: { params: { id: run.id }, body: { type: 'activity.done' } }, status: 400, field: 'type' },
      { request: { params: { id: run.id }, body: { type: 'xstate.init' } }, status: 400, field: 'type' },
    ],
    'POST /v1/runs/{id}/cancel': [
      { request: { params: { id: cancellable.id }, body: { reason: 'superseded' } }, status: 200 },
      { request: { params: { id: cancellable.id }, body: { reason: 5 } }, status: 400, field: 'reason' },
    ],
    'GET /v1/runs/{id}/events': [
      { request: { params: { id: run.id } }, status: 200 },
      { request: { params: { id: unknownRun } }, status: 404 },
      { request: { params: { id: 'a b' } }, status: 400, field: 'id' },
    ],
    'GET /v1/definitions': [{ request: {}, status: 200 }],
    'GET /v1/definitions/{name}': [
      { request: { params: { name: 'gated' }, query: { version: '1' } }, status: 200 },
      { request: { params: { name: 'gated' }, query: { version: '9' } }, status: 404 },
      { request: { params: { name: 'gated' }, query: { version: 'one' } }, status: 400, field: 'version' },
    ],
    'PUT /v1/definitions/{name}': [
      { request: { params: { name: 'review' }, body: review }, status: 201 },
      { request: { params: { name: 'review' }, body: review }, status: 200 },
      // The engine's own refusal, named by the path inside the document.
      { request: { params: { name: 'review' }, body: { ...review, states: { review: { on: { DONE: 'finished' } } } } }, status: 400, field: 'states.review.on.DONE' },
      { request: { params: { name: 'review' }, body: { initial: 'review', states: review.states } }, status: 400, field: 'id' },
    ],
    'GET /v1/definitions/{name}/versions': [
      { request: { params: { name: 'gated' } }, status: 200 },
      { request: { params: { name: 'nothing' } }, status: 404 },
      { request: { params: { name: '9lives' } }, status: 400, field: 'name' },
    ],
    'GET /v1/definitions/{name}/diff': [
      { request: { params: { name: 'gated' }, query: { from: '1', to: '2' } }, status: 200 },
      { request: { params: { name: 'gated' }, query: { from: '1', to: '9' } }, status: 404 },
      { request: { params: { name: 'gated' }, query: { from: '1' } }, status: 400, field: 'to' },
    ],
    'GET /v1/definitions/{name}/runs': [
      { request: { params: { name: 'gated' }, query: { status: 'running' } }, status: 200 },
      { request: { params: { name: 'gated' }, query: { definition: 'x' } }, status: 400, field: 'definition' },
    ],
    'GET /v1/locks': [
      { request: { query: { prefix: concern } }, status: 200 },
      { request: { query: { prefix: '' } }, status: 400, field: 'prefix' },
    ],
  };
}

describe('the OpenAPI document against the real workflow-engine and lock-manager', () => {
  it('answers every definitions, runs and locks operation as documented', async () => {
    const cases = await seed();
    const operations = operationsOf(document).filter(({ path }) => walked.test(path));
    expect(operations.map(({ key }) => key).sort()).toEqual(Object.keys(cases).sort());
    for (const { key, method, path, op } of operations) {
      for (const [i, c] of cases[key]!.entries()) {
        const answer = await sendExample(app.url, method, path, c.request);
        const what = `${key} #${i}`;
        expect({ what, status: answer.status }).toEqual({ what, status: c.status });
        expectDocumented(op, answer, what);
        if (c.status === 400) expect({ what, field: (answer.body as { error: { field?: string } }).error.field }).toEqual({ what, field: c.field });
      }
    }
  });

  it('shows the real lease and its waiter, and the run the engine moved', async () => {
    const locks = await sendExample(app.url, 'GET', '/v1/locks', { query: { prefix: concern } });
    expect(locks.body).toMatchObject({
      leases: [expect.objectContaining({ owner: `executor:executor-1:${lockTaskId}:s1`, concerns: [concern] })],
      waiters: [expect.objectContaining({ owner: `executor:executor-2:${lockTaskId}:s2` })],
    });
    const runs = await sendExample(app.url, 'GET', '/v1/definitions/{name}/runs', { params: { name: 'gated' }, query: { version: '1' } });
    expect((runs.body as { runs: Array<{ status: string; state: string }> }).runs).toEqual([expect.objectContaining({ status: 'done', state: 'done' })]);
  });
});
