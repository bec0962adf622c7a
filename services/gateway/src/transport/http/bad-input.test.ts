/**
 * Bad input a new user sends by accident (issue 10): an empty `testCommand`, a plain-text body,
 * over-long ids and queries, garbage on the wire. Each gets the standard error body with a clear
 * message, never echoes the request back, and reaches no upstream.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from '../../../test/fakes/index.js';
import { serve, type ServedApp } from '../../../test/serve.js';
import { authedFetch } from '../../../test/auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

let fakes: FakeUpstreams;
let app: ServedApp;
let repo: string;

beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'gateway-bad-input-'));
  mkdirSync(join(repo, '.git'));
  fakes = createFakeUpstreams();
  app = await serve(depsOf(fakes));
});

afterAll(async () => {
  await app.close();
});

async function answer(response: Response): Promise<{ status: number; type: string; text: string; body: unknown }> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, type, text, body: type.startsWith('application/json') ? JSON.parse(text) : text };
}

const postJson = (path: string, body: unknown) =>
  fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('an empty testCommand', () => {
  it('is refused with 400 naming testCommand, and no task is submitted', async () => {
    const refused = await answer(await postJson('/v1/tasks', { goal: 'add a flag', repoPath: repo, testCommand: [] }));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'testCommand: must not be empty; leave it out to use the default', field: 'testCommand' },
    });
    expect(fakes.orchestrator.tasks).toHaveLength(0);
  });

  it('left out, the task is submitted (the default: the orchestrator detects the command)', async () => {
    const accepted = await postJson('/v1/tasks', { goal: 'add a flag', repoPath: repo });
    expect(accepted.status).toBe(201);
    expect(fakes.orchestrator.tasks).toHaveLength(1);
  });
});

describe('a body that is not JSON', () => {
  const bodyRoutes: Array<[string, string]> = [
    ['POST', '/v1/tasks'],
    ['POST', '/v1/tasks/t1/cancel'],
    ['POST', '/v1/runs/r1/events'],
    ['PUT', '/v1/definitions/coding'],
  ];

  it.each(bodyRoutes)('%s %s with text/plain gets 415 in the standard shape', async (method, path) => {
    const refused = await answer(await fetch(`${app.url}${path}`, { method, headers: { 'content-type': 'text/plain' }, body: 'fix it' }));
    expect(refused.status).toBe(415);
    expect(refused.type).toMatch(/^application\/json/);
    expect(refused.body).toEqual({
      error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'request body must be JSON; send it with content-type application/json' },
    });
  });

  it('gets 415 for other media types too (a form, XML)', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'application/xml']) {
      const refused = await answer(await fetch(`${app.url}/v1/tasks`, { method: 'POST', headers: { 'content-type': type }, body: 'goal=x' }));
      expect({ type, status: refused.status }).toEqual({ type, status: 415 });
      expect((refused.body as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(fakes.orchestrator.tasks).toHaveLength(1);
  });
});

describe('an over-long id or query', () => {
  it.each([129, 300, 4000])('an id of %i characters gets 400 naming id, without echoing it', async (length) => {
    const id = 'a'.repeat(length);
    for (const path of [`/v1/tasks/${id}`, `/v1/tasks/${id}/steps`, `/v1/runs/${id}`]) {
      const refused = await answer(await fetch(`${app.url}${path}`));
      expect({ path: path.slice(0, 12), status: refused.status }).toEqual({ path: path.slice(0, 12), status: 400 });
      expect(refused.body).toEqual({
        error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^id: must be an id/), field: 'id' },
      });
      expect(refused.text).not.toContain('a'.repeat(129));
    }
  });

  it('a path segment longer than the router takes gets 414 in the standard shape, without echoing it', async () => {
    const refused = await answer(await fetch(`${app.url}/v1/tasks/${'b'.repeat(5000)}`));
    expect(refused.status).toBe(414);
    expect(refused.body).toEqual({ error: { code: 'URI_TOO_LONG', message: expect.stringContaining('longer than 4096 characters') } });
    expect(refused.text).not.toContain('bbbb');
  });

  it('a query parameter over its limit gets 400 naming it', async () => {
    const refused = await answer(await fetch(`${app.url}/v1/tasks?q=${'c'.repeat(501)}`));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^q: /), field: 'q' } });
    expect(refused.text).not.toContain('cccc');
  });

  it('a URL over node\'s 16 KiB header limit gets 431 in the standard shape, without echoing it', async () => {
    for (const url of [`${app.url}/v1/tasks?q=${'d'.repeat(20_000)}`, `${app.url}/v1/tasks/${'d'.repeat(20_000)}`]) {
      const refused = await answer(await fetch(url));
      expect(refused.status).toBe(431);
      expect(refused.body).toEqual({ error: { code: 'REQUEST_HEADERS_TOO_LARGE', message: expect.stringContaining('shorten the URL') } });
      expect(refused.text).not.toContain('dddd');
    }
  });

  it('a path that is not valid percent-encoding gets 400 in the standard shape', async () => {
    const refused = await answer(await fetch(`${app.url}/v1/tasks/%E0%A4%A`));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('percent-encoding') } });
    expect(refused.text).not.toContain('%E0');
  });

  it('an unknown route quotes at most 200 characters of its path', async () => {
    const refused = await answer(await fetch(`${app.url}/v1/nothing/${'e'.repeat(5000)}`));
    expect(refused.status).toBe(404);
    const { message } = (refused.body as { error: { code: string; message: string } }).error;
    expect(message).toContain('(5012 characters)');
    expect(message.length).toBeLessThan(300);
  });
});

describe('a request that is not HTTP', () => {
  it('gets 400 in the standard shape and the connection is closed', async () => {
    const { port } = new URL(app.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'MALFORMED_REQUEST', message: 'the request is not valid HTTP' },
    });
  });
});
