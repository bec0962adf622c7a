/**
 * A task's `memoryScopes` through `POST /v1/tasks`: what is accepted reaches SubmitTask and is
 * shown on the task, what the shared scope rule refuses is a 400 naming the item, before the
 * orchestrator is asked; and the OpenAPI document describes the field.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryScopeLimits } from '@maestro/contracts';
import type { UserError } from '@maestro/runtime';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../../test/fakes/index.js';
import { callJson, serve, type JsonReply, type ServedApp } from '../../../test/serve.js';
import { authedFetch } from '../../../test/auth.js';
import { requireTaskMemoryScopes } from './task-memory-scopes.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

let fakes: FakeUpstreams;
let app: ServedApp;
let repo: string;
beforeAll(async () => {
  fakes = createFakeUpstreams();
  repo = mkdtempSync(join(tmpdir(), 'gateway-memory-scopes-'));
  mkdirSync(join(repo, '.git'));
  app = await serve(depsOf(fakes));
});
afterAll(async () => {
  await app.close();
});

const call = (method: string, path: string, body?: unknown): Promise<JsonReply> => callJson(fetch, app, method, path, body);

const submit = (memoryScopes: unknown) => call('POST', '/v1/tasks', { goal: 'Add a flag', repoPath: repo, memoryScopes });

describe('POST /v1/tasks with memoryScopes', () => {
  it('passes the scopes to SubmitTask and shows them on the task, read back and listed', async () => {
    const created = await submit(['user:alice', 'team:core']);
    expect(created.status).toBe(201);
    expect(created.body.memoryScopes).toEqual(['user:alice', 'team:core']);
    expect(fakes.orchestrator.submitted.at(-1)).toMatchObject({ goal: 'Add a flag', memoryScopes: ['user:alice', 'team:core'] });

    const read = await call('GET', `/v1/tasks/${created.body.id as string}`);
    expect(read).toMatchObject({ status: 200, body: { id: created.body.id, memoryScopes: ['user:alice', 'team:core'] } });
    const listed = await call('GET', '/v1/tasks');
    expect(listed.body.tasks.find((t: { id: string }) => t.id === created.body.id).memoryScopes).toEqual(['user:alice', 'team:core']);
  });

  it('sends [] when the body names no scopes, and the task shows []', async () => {
    const created = await call('POST', '/v1/tasks', { goal: 'Add a flag', repoPath: repo });
    expect(created.status).toBe(201);
    expect(created.body.memoryScopes).toEqual([]);
    expect(fakes.orchestrator.submitted.at(-1)!.memoryScopes).toEqual([]);
    expect((await submit([])).body.memoryScopes).toEqual([]);
  });

  it(`takes up to ${MemoryScopeLimits.maxTaskScopes} scopes, and ids as long as the rule allows`, async () => {
    const most = Array.from({ length: MemoryScopeLimits.maxTaskScopes }, (_, i) => `team:t${i}`);
    expect((await submit(most)).status).toBe(201);
    expect(fakes.orchestrator.submitted.at(-1)!.memoryScopes).toEqual(most);
    const longest = `user:${'a'.repeat(MemoryScopeLimits.maxIdLength)}`;
    expect((await submit([longest])).body.memoryScopes).toEqual([longest]);
  });

  it('passes a scope named twice on as it is (SubmitTask keeps the first, as for gRPC callers)', async () => {
    expect((await submit(['user:alice', 'team:core', 'user:alice'])).status).toBe(201);
    expect(fakes.orchestrator.submitted.at(-1)!.memoryScopes).toEqual(['user:alice', 'team:core', 'user:alice']);
  });

  const refused: Array<[string, unknown, string, string]> = [
    ['"project" (always recalled)', ['user:alice', 'project'], 'memoryScopes.1', '"project" is always recalled: leave it out'],
    ['an unknown kind', ['org:acme'], 'memoryScopes.0', 'must be "user:<id>" or "team:<id>"'],
    ['a kind without an id', ['user:'], 'memoryScopes.0', 'must be "user:<id>" or "team:<id>"'],
    ['an id with a space', ['user:al ice'], 'memoryScopes.0', 'without spaces, commas or colons'],
    ['an id with a comma', ['team:a,b'], 'memoryScopes.0', 'without spaces, commas or colons'],
    ['an id with a colon', ['team:a:b'], 'memoryScopes.0', 'without spaces, commas or colons'],
    ['an id over the limit', [`user:${'a'.repeat(MemoryScopeLimits.maxIdLength + 1)}`], 'memoryScopes.0', 'an id of 1..128 characters'],
    ['an empty scope', [''], 'memoryScopes.0', 'must not be empty'],
    ['a scope that is not a string', [7], 'memoryScopes.0', 'must be string'],
    ['a string instead of a list', 'user:alice', 'memoryScopes', 'must be array'],
    [
      `more than ${MemoryScopeLimits.maxTaskScopes} scopes`,
      Array.from({ length: MemoryScopeLimits.maxTaskScopes + 1 }, (_, i) => `team:t${i}`),
      'memoryScopes',
      `must NOT have more than ${MemoryScopeLimits.maxTaskScopes} items`,
    ],
    // Ajv counts an id's length in code points, the shared rule in UTF-16 units: the schema lets
    // 100 emoji through (200 units), the route's own check refuses them.
    ['an id over the limit in UTF-16 units only', ['user:alice', `user:${'\u{1F600}'.repeat(100)}`], 'memoryScopes[1]', 'an id of 1..128 characters'],
  ];
  it.each(refused)('refuses %s with 400 naming it, without asking the orchestrator', async (_case, memoryScopes, field, words) => {
    const before = fakes.orchestrator.submitted.length;
    const answer = await submit(memoryScopes);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({ code: 'INVALID_ARGUMENT', field, message: expect.stringContaining(words) });
    expect(answer.body.error.message.startsWith(`${field}: `)).toBe(true);
    expect(fakes.orchestrator.submitted.length).toBe(before);
  });

  it('is described in the OpenAPI document, with its limits and pattern, request and response', async () => {
    const document = (await call('GET', '/openapi.json')).body;
    const post = document.paths['/v1/tasks'].post;
    const property = post.requestBody.content['application/json'].schema.properties.memoryScopes;
    expect(property).toMatchObject({ type: 'array', maxItems: MemoryScopeLimits.maxTaskScopes, items: { type: 'string', pattern: expect.stringContaining('(user|team):') } });
    expect(property.description).toContain('"project" is always recalled');
    expect(post.responses['201'].content['application/json'].schema.properties.memoryScopes).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(post.responses['201'].content['application/json'].schema.required).toContain('memoryScopes');
  });
});

describe('requireTaskMemoryScopes', () => {
  const refusal = (scopes: string[]): UserError => {
    try {
      requireTaskMemoryScopes(scopes);
    } catch (err) {
      return err as UserError;
    }
    throw new Error(`expected ${JSON.stringify(scopes)} to be refused`);
  };

  it('gives [] for none and a copy of valid scopes', () => {
    expect(requireTaskMemoryScopes(undefined)).toEqual([]);
    const scopes = ['user:alice', 'team:core'];
    const checked = requireTaskMemoryScopes(scopes);
    expect(checked).toEqual(scopes);
    expect(checked).not.toBe(scopes);
  });

  it('names the item at fault as it was sent, memoryScopes[i]', () => {
    expect(refusal(['user:alice', 'project'])).toMatchObject({ field: 'memoryScopes[1]', message: expect.stringContaining('"project" is always recalled') });
    expect(refusal(['group:x'])).toMatchObject({ field: 'memoryScopes[0]', message: expect.stringContaining('got "group:x"') });
    expect(refusal(Array.from({ length: MemoryScopeLimits.maxTaskScopes + 1 }, (_, i) => `user:u${i}`))).toMatchObject({ field: 'memoryScopes' });
  });
});
