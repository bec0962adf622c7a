import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeUpstreams, depsOf } from '../../../test/fakes/index.js';
import { serve, type ServedApp } from '../../../test/serve.js';
import { VIEWER_NOT_BUILT, ViewerCache } from './viewer.js';
import { authedFetch } from '../../../test/auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

const INDEX = '<!doctype html><title>CodeMaestro</title><script src="/assets/app-3f2a.js"></script>';

function builtDist(): string {
  const dist = mkdtempSync(join(tmpdir(), 'gateway-web-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'app-3f2a.js'), 'console.log("viewer")');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dist;
}

describe('the viewer, built', () => {
  let app: ServedApp;
  beforeAll(async () => {
    app = await serve(depsOf(createFakeUpstreams(), { webDist: builtDist() }));
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(['/', '/runs/3b0c', '/runs/3b0c/steps/4', '/tasks'])('answers %s with index.html, not cached', async (path) => {
    const response = await fetch(`${app.url}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe(ViewerCache.pages);
    expect(await response.text()).toBe(INDEX);
  });

  it('serves assets cached immutably, other files as they are, and 404s a missing asset', async () => {
    const asset = await fetch(`${app.url}/assets/app-3f2a.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe(ViewerCache.assets);
    expect(await asset.text()).toBe('console.log("viewer")');
    const icon = await fetch(`${app.url}/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('cache-control')).toBe(ViewerCache.pages);
    const missing = await fetch(`${app.url}/assets/app-0000.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });

  it('leaves the API, /openapi.json, /docs and /healthz their own answers', async () => {
    const unknownApi = await fetch(`${app.url}/v1/nothing-here`);
    expect(unknownApi.status).toBe(404);
    expect(await unknownApi.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    expect(await (await fetch(`${app.url}/v1/tasks`)).json()).toEqual({ tasks: [], nextPageToken: '' });
    expect(await (await fetch(`${app.url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    expect(await (await fetch(`${app.url}/openapi.json`)).json()).toMatchObject({ openapi: '3.1.0' });
    const docs = await fetch(`${app.url}/docs`);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await docs.text()).toContain('/v1/definitions/{name}/diff');
  });

  it('keeps viewer routes out of the OpenAPI document', async () => {
    const document = (await (await fetch(`${app.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).filter((p) => !p.startsWith('/v1/') && !['/healthz', '/openapi.json', '/docs'].includes(p))).toEqual([]);
  });
});

describe('the viewer, not built', () => {
  let app: ServedApp;
  beforeAll(async () => {
    app = await serve(depsOf(createFakeUpstreams(), { webDist: join(tmpdir(), 'gateway-web-never-built') }));
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(['/', '/runs/3b0c/steps/4'])('answers %s with 503 saying how to build it', async (path) => {
    const response = await fetch(`${app.url}${path}`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toContain(VIEWER_NOT_BUILT);
    expect(VIEWER_NOT_BUILT).toBe('viewer not built: run make build');
  });

  it('still serves the API and answers unknown API routes with JSON 404', async () => {
    expect((await fetch(`${app.url}/v1/tasks`)).status).toBe(200);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const unknownApi = await fetch(`${app.url}/v1/nothing-here`);
    expect(unknownApi.status).toBe(404);
    expect(await unknownApi.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
  });
});
