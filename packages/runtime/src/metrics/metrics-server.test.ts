import { createSilentLogger } from '../logger.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { parsePrometheusText, sampleValue } from './parse-prometheus-text.js';
import { defineCounter, defineGauge, Registry } from './registry.js';

let server: MetricsServer;
let registry: Registry;
let base: string;

beforeEach(async () => {
  registry = new Registry();
  server = await startMetricsServer({ host: '127.0.0.1', port: 0, logger: createSilentLogger(), registry });
  base = `http://127.0.0.1:${server.port}`;
});

afterEach(() => server.close());

describe('startMetricsServer', () => {
  it('serves the registry on GET /metrics in the text format, reflecting each change', async () => {
    const calls = defineCounter(registry, { name: 'maestro_calls_total', help: 'Calls.', labelNames: ['code'] });
    calls.inc({ code: 'OK' });
    const first = await fetch(`${base}/metrics`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(sampleValue(parsePrometheusText(await first.text()), 'maestro_calls_total', { code: 'OK' })).toBe(1);
    calls.inc({ code: 'OK' }, 4);
    const second = parsePrometheusText(await (await fetch(`${base}/metrics?x=1`)).text());
    expect(sampleValue(second, 'maestro_calls_total', { code: 'OK' })).toBe(5);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const notFound = await fetch(`${base}/`);
    expect(notFound.status).toBe(404);
    expect(await notFound.text()).toContain('/metrics');
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers 500 without internals when a metric cannot be collected', async () => {
    defineGauge(registry, {
      name: 'maestro_broken',
      help: 'Fails.',
      collect() {
        throw new Error('secret driver detail');
      },
    });
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).toBe('could not collect metrics; see the service log\n');
  });
});
