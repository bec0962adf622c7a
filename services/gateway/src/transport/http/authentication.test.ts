/**
 * The authentication hook on the whole app over the fakes: public routes open, everything else
 * refused without a valid key (SSE included, before any stream byte), scopes enforced, the
 * caller's tenant sent upstream, another tenant's ids answered like unknown ones, and the key
 * admin routes.
 */
import type { AddressInfo } from 'node:net';
import { createSilentLogger } from '@maestro/runtime';
import { fastify } from 'fastify';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatApiKey, parseApiKey } from '../../auth/api-key.js';
import { bearer, createTestAuth, TEST_ADMIN_KEY } from '../../../test/auth.js';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../../test/fakes/index.js';
import { RecordingLogger } from '../../../test/recording-logger.js';
import { serve, type ServedApp } from '../../../test/serve.js';
import { registerAuthentication } from './authentication.js';
import { registerErrorHandling } from './error-handler.js';

let fakes: FakeUpstreams;
let logger: RecordingLogger;
let app: ServedApp;
let repo: string;

beforeEach(async () => {
  fakes = createFakeUpstreams();
  logger = new RecordingLogger();
  app = await serve(depsOf(fakes, { logger }));
  repo = mkdtempSync(join(tmpdir(), 'gateway-auth-'));
  mkdirSync(join(repo, '.git'));
});

afterEach(async () => {
  await app.close();
});

interface Answer {
  status: number;
  type: string;
  authenticate: string | null;
  body: any;
}

async function call(method: string, path: string, key: string | undefined, body?: unknown): Promise<Answer> {
  const response = await fetch(`${app.url}${path}`, {
    method,
    headers: { ...(key !== undefined ? bearer(key) : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!;
  const text = await response.text();
  return { status: response.status, type, authenticate: response.headers.get('www-authenticate'), body: type === 'application/json' ? JSON.parse(text) : text };
}

const unauthenticated = (message: string | RegExp) => ({
  status: 401,
  type: 'application/json',
  authenticate: 'Bearer',
  body: { error: { code: 'UNAUTHENTICATED', message: typeof message === 'string' ? message : expect.stringMatching(message) } },
});

describe('public routes', () => {
  it('serve health, the OpenAPI document and the reference page without a key', async () => {
    expect((await call('GET', '/healthz', undefined)).status).toBe(200);
    expect((await call('GET', '/openapi.json', undefined)).status).toBe(200);
    expect((await call('GET', '/docs', undefined)).status).toBe(200);
  });
});

describe('refusals', () => {
  it('answers a request without credentials with 401, WWW-Authenticate: Bearer and what to send', async () => {
    expect(await call('GET', '/v1/tasks', undefined)).toEqual(unauthenticated('missing credentials: send Authorization: Bearer with an API key'));
  });

  it('answers a header that is not a bearer token, and a token that is neither key nor JWT, with 401', async () => {
    const basic = await fetch(`${app.url}/v1/tasks`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    expect(await basic.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'malformed Authorization header: expected "Bearer <token>"' } });
    expect(await call('GET', '/v1/tasks', 'hunter2')).toEqual(unauthenticated('malformed credentials: send an API key'));
    expect(await call('GET', '/v1/tasks', 'mk_short_key')).toEqual(unauthenticated(/^malformed API key/));
  });

  it('answers an unknown key and a known id with the wrong secret alike, and logs each refusal once with the key id only', async () => {
    const known = parseApiKey(TEST_ADMIN_KEY)!;
    const wrongSecret = formatApiKey({ keyId: known.keyId, secret: 'W'.repeat(43) });
    const unknown = formatApiKey({ keyId: 'nobodyknowsm', secret: 'U'.repeat(43) });
    expect(await call('GET', '/v1/tasks', wrongSecret)).toEqual(unauthenticated('unknown API key'));
    expect(await call('GET', '/v1/tasks', unknown)).toEqual(unauthenticated('unknown API key'));

    const refusals = logger.find('request failed');
    expect(refusals.map((line) => [line.level, line.fields['code'], line.fields['keyId'], line.fields['err']])).toEqual([
      ['info', 'UNAUTHENTICATED', known.keyId, 'unknown API key'],
      ['info', 'UNAUTHENTICATED', 'nobodyknowsm', 'unknown API key'],
    ]);
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain('W'.repeat(43));
    expect(logged).not.toContain('U'.repeat(43));
  });

  it('refuses a revoked key, saying so', async () => {
    const key = await fakes.auth.keyFor(['read']);
    expect((await call('GET', '/v1/tasks', key)).status).toBe(200);
    const { keyId } = parseApiKey(key)!;
    expect((await call('DELETE', `/v1/keys/${keyId}`, TEST_ADMIN_KEY)).status).toBe(200);
    expect(await call('GET', '/v1/tasks', key)).toEqual(unauthenticated(`API key ${keyId} was revoked`));
  });

  it('refuses the event streams without a key before any stream byte: a JSON 401, not an event stream', async () => {
    const run = await fakes.workflow.putDefinition({ tenant: '', name: 'coding', definition: { id: 'coding', initial: 'a', states: { a: { on: { GO: 'b' } }, b: { type: 'final' } } } }).then(() => fakes.workflow.startRun('coding'));
    for (const path of ['/v1/events', `/v1/runs/${run.id}/events`]) {
      expect(await call('GET', path, undefined)).toEqual(unauthenticated(/^missing credentials/));
    }
  });
});

describe('scopes', () => {
  it('lets a read key read but not submit, cancel or manage keys (403 SCOPE_MISSING naming the scope)', async () => {
    const read = await fakes.auth.keyFor(['read']);
    expect((await call('GET', '/v1/tasks', read)).status).toBe(200);
    expect(await call('POST', '/v1/tasks', read, { goal: 'x', repoPath: repo })).toEqual({
      status: 403,
      type: 'application/json',
      authenticate: null,
      body: { error: { code: 'SCOPE_MISSING', message: 'this route needs scope submit' } },
    });
    expect((await call('POST', '/v1/tasks/task-1/cancel', read)).body).toEqual({ error: { code: 'SCOPE_MISSING', message: 'this route needs scope submit' } });
    expect((await call('GET', '/v1/keys', read)).body).toEqual({ error: { code: 'SCOPE_MISSING', message: 'this route needs scope admin' } });
    expect(fakes.orchestrator.tasks).toEqual([]);
  });

  it('lets a submit key submit, and an admin key do everything', async () => {
    const submit = await fakes.auth.keyFor(['submit']);
    expect((await call('POST', '/v1/tasks', submit, { goal: 'x', repoPath: repo })).status).toBe(201);
    expect((await call('GET', '/v1/keys', submit)).status).toBe(403);
    expect((await call('GET', '/v1/keys', TEST_ADMIN_KEY)).status).toBe(200);
    expect((await call('POST', '/v1/tasks', TEST_ADMIN_KEY, { goal: 'y', repoPath: repo })).status).toBe(201);
  });

  it('needs admin on a route that declares no scope (fails closed)', async () => {
    const auth = createTestAuth();
    const bare = fastify();
    registerErrorHandling(bare, createSilentLogger());
    registerAuthentication(bare, auth.authenticator);
    bare.get('/v1/forgotten', async () => ({ ok: true }));
    await bare.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/v1/forgotten`;
      const submitted = await fetch(url, { headers: bearer(await auth.keyFor(['read', 'submit'])) });
      expect(submitted.status).toBe(403);
      expect(await submitted.json()).toEqual({ error: { code: 'SCOPE_MISSING', message: 'this route needs scope admin' } });
      expect((await fetch(url, { headers: bearer(TEST_ADMIN_KEY) })).status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});

describe('tenants', () => {
  it('sends the key\'s tenant with every upstream call and shows it in the answer', async () => {
    const acme = await fakes.auth.keyFor(['submit'], { tenant: 'acme' });
    const created = await call('POST', '/v1/tasks', acme, { goal: 'x', repoPath: repo });
    expect(created.body).toMatchObject({ tenant: 'acme' });
    expect(fakes.orchestrator.tasks[0]?.tenant).toBe('acme');
    const memory = await call('POST', '/v1/memories', acme, { project: 'demo', kind: 'project', content: 'uses pnpm' });
    expect(memory.body).toMatchObject({ tenant: 'acme' });
  });

  it('answers another tenant\'s task exactly like an unknown one, and leaves it out of lists', async () => {
    const acme = await fakes.auth.keyFor(['submit'], { tenant: 'acme' });
    const globex = await fakes.auth.keyFor(['submit'], { tenant: 'globex' });
    const created = await call('POST', '/v1/tasks', acme, { goal: 'acme work', repoPath: repo });
    const id = created.body.id as string;
    const theirs = await call('GET', `/v1/tasks/${id}`, globex);
    const unknown = await call('GET', '/v1/tasks/task-999', globex);
    expect(theirs.status).toBe(404);
    expect(theirs.body).toEqual({ error: { code: 'TASK_NOT_FOUND', message: `task ${id} does not exist` } });
    expect(unknown.body).toEqual({ error: { code: 'TASK_NOT_FOUND', message: 'task task-999 does not exist' } });
    expect((await call('POST', `/v1/tasks/${id}/cancel`, globex)).status).toBe(404);
    expect((await call('GET', '/v1/tasks', globex)).body.tasks).toEqual([]);
    expect((await call('GET', `/v1/tasks/${id}`, acme)).status).toBe(200);
  });

  it('keeps another tenant\'s run out of reach, its event stream included', async () => {
    await fakes.workflow.putDefinition({ tenant: '', name: 'coding', definition: { id: 'coding', initial: 'a', states: { a: { on: { GO: 'b' } }, b: { type: 'final' } } } });
    const run = await fakes.workflow.startRun('coding', {}, 0, 'acme');
    const globex = await fakes.auth.keyFor(['read'], { tenant: 'globex' });
    expect((await call('GET', `/v1/runs/${run.id}`, globex)).status).toBe(404);
    expect((await call('GET', `/v1/runs/${run.id}/events`, globex))).toMatchObject({ status: 404, type: 'application/json' });
  });
});

describe('/v1/keys', () => {
  it('creates a key shown once, lists it without its secret, and the new key works', async () => {
    const created = await call('POST', '/v1/keys', TEST_ADMIN_KEY, { name: 'ci', scopes: ['read', 'submit'] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/),
      key: expect.stringMatching(/^mk_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}$/),
      name: 'ci',
      tenant: 'default',
      scopes: ['read', 'submit'],
      createdAt: '2030-01-02T03:04:05.000Z',
    });
    const key = created.body.key as string;
    expect(parseApiKey(key)?.keyId).toBe(created.body.id);
    expect((await call('GET', '/v1/tasks', key)).status).toBe(200);

    const listed = await call('GET', '/v1/keys', TEST_ADMIN_KEY);
    expect(listed.body.keys).toContainEqual({
      id: created.body.id, name: 'ci', tenant: 'default', scopes: ['read', 'submit'], createdAt: '2030-01-02T03:04:05.000Z', lastUsedAt: '2030-01-02T03:04:05.000Z',
    });
    expect(JSON.stringify(listed.body)).not.toContain(parseApiKey(key)!.secret);
  });

  it('lets only the operator create keys for another tenant or see every tenant\'s keys', async () => {
    expect((await call('POST', '/v1/keys', TEST_ADMIN_KEY, { name: 'x', scopes: ['read'], tenant: 'globex' })).body).toEqual({
      error: { code: 'TENANT_FORBIDDEN', message: 'only the operator may create keys for another tenant than default' },
    });
    const operator = await fakes.auth.keyFor(['admin'], { operator: true });
    // A tenant the services would refuse is refused here too, not issued as a key that cannot work.
    expect(await call('POST', '/v1/keys', operator, { name: 'x', scopes: ['read'], tenant: 'acme.corp' })).toMatchObject({ status: 400, body: { error: { field: 'tenant' } } });
    const forGlobex = await call('POST', '/v1/keys', operator, { name: 'globex admin', scopes: ['admin'], tenant: 'globex' });
    expect(forGlobex).toMatchObject({ status: 201, body: { tenant: 'globex' } });
    expect((await call('GET', '/v1/keys', TEST_ADMIN_KEY)).body.keys.map((k: { tenant: string }) => k.tenant)).not.toContain('globex');
    expect((await call('GET', '/v1/keys', operator)).body.keys.map((k: { tenant: string }) => k.tenant)).toContain('globex');
    // Another tenant's key reads as unknown to this tenant's admin.
    expect((await call('DELETE', `/v1/keys/${forGlobex.body.id as string}`, TEST_ADMIN_KEY)).body).toEqual({
      error: { code: 'API_KEY_NOT_FOUND', message: `API key ${forGlobex.body.id as string} does not exist` },
    });
  });

  it('refuses to revoke the operator\'s key, which comes from the configuration', async () => {
    const operator = await fakes.auth.keyFor(['admin'], { operator: true });
    const answer = await call('DELETE', `/v1/keys/${parseApiKey(operator)!.keyId}`, operator);
    expect(answer).toMatchObject({ status: 409, body: { error: { code: 'OPERATOR_KEY' } } });
  });

  it('names the field of a bad request', async () => {
    expect((await call('POST', '/v1/keys', TEST_ADMIN_KEY, { name: 'x', scopes: ['root'] })).body.error).toMatchObject({ field: 'scopes.0' });
    expect((await call('POST', '/v1/keys', TEST_ADMIN_KEY, { name: '', scopes: ['read'] })).body.error).toMatchObject({ field: 'name' });
    expect((await call('POST', '/v1/keys', TEST_ADMIN_KEY, { name: 'x', scopes: ['read'], tenant: 'Not A Tenant' })).body.error).toMatchObject({ field: 'tenant' });
  });
});
