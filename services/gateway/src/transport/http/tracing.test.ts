import { fastify, type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { initTelemetry, toTraceCarrier, type Telemetry } from '@maestro/runtime';
import { registerHttpTracing } from './tracing.js';

// A real tracer provider (no exporter), as in the running gateway: spans are created and propagated.
let telemetry: Telemetry;
beforeAll(() => {
  telemetry = initTelemetry({ serviceName: 'gateway-tracing-test' });
});
afterAll(async () => {
  await telemetry.shutdown();
});

const callerTrace = '0af7651916cd43dd8448eb211c80319c';
const callerParent = `00-${callerTrace}-b7ad6b7169203331-01`;

// Real HTTP on a free port: fastify's inject() pulls in an ESM-only dependency (cookie 2)
// that jest's CommonJS runtime cannot load.
let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  app = fastify();
  registerHttpTracing(app);
  // The routes answer with the trace context their handler runs in (what an upstream call would carry).
  app.get('/v1/things/:id', async () => toTraceCarrier());
  app.post('/v1/things', async () => toTraceCarrier());
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
});

async function seen(method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify({ goal: 'x' }) } : {}),
  });
  return (await res.json()) as Record<string, string>;
}

function traceIdOf(carrier: Record<string, string>): string | undefined {
  return carrier['traceparent']?.split('-')[1];
}

it('runs a handler inside the request span, continuing the caller trace', async () => {
  const carrier = await seen('GET', '/v1/things/1', { traceparent: callerParent });
  expect(traceIdOf(carrier)).toBe(callerTrace);
  // A span of its own, child of the caller's.
  expect(carrier['traceparent']).not.toBe(callerParent);
});

it('runs a handler of a request with a body inside the request span', async () => {
  expect(traceIdOf(await seen('POST', '/v1/things', { traceparent: callerParent }))).toBe(callerTrace);
});

it('starts a trace of its own for a request without one, one per request', async () => {
  const [a, b] = [traceIdOf(await seen('POST', '/v1/things')), traceIdOf(await seen('POST', '/v1/things'))];
  expect(a).toMatch(/^[0-9a-f]{32}$/);
  expect(b).toMatch(/^[0-9a-f]{32}$/);
  expect(a).not.toBe(b);
});
