import { ManualClock } from '../clock.js';
import { trackConsumerBacklog, type ConsumerBacklog } from './consumer-backlog.js';
import { parsePrometheusText, sampleValue } from './parse-prometheus-text.js';
import { Registry } from './registry.js';

async function scrape(registry: Registry) {
  return parsePrometheusText(await registry.metrics());
}

describe('trackConsumerBacklog', () => {
  it('reports lag (undelivered) and depth (undelivered + in progress) per consumer, reading each once per scrape', async () => {
    const registry = new Registry();
    let reads = 0;
    let backlog: ConsumerBacklog = { pending: 7, ackPending: 2 };
    trackConsumerBacklog(registry, {
      stream: 'MAESTRO_WORK',
      consumer: 'executor-work',
      read: async () => {
        reads++;
        return backlog;
      },
    });
    const labels = { stream: 'MAESTRO_WORK', consumer: 'executor-work' };
    let parsed = await scrape(registry);
    expect(sampleValue(parsed, 'maestro_consumer_lag_messages', labels)).toBe(7);
    expect(sampleValue(parsed, 'maestro_work_queue_depth', labels)).toBe(9);
    expect(reads).toBe(1);

    backlog = { pending: 0, ackPending: 1 };
    parsed = await scrape(registry);
    expect(sampleValue(parsed, 'maestro_consumer_lag_messages', labels)).toBe(0);
    expect(sampleValue(parsed, 'maestro_work_queue_depth', labels)).toBe(1);
  });

  it('drops a consumer whose info does not come in time from that scrape and counts the failure; the others still report', async () => {
    const registry = new Registry();
    const clock = new ManualClock();
    let stuckSignal: AbortSignal | undefined;
    trackConsumerBacklog(
      registry,
      {
        stream: 'S',
        consumer: 'stuck',
        read: (signal) => {
          stuckSignal = signal;
          return new Promise<ConsumerBacklog>(() => undefined);
        },
      },
      { clock, timeoutMs: 500 },
    );
    trackConsumerBacklog(registry, { stream: 'S', consumer: 'fine', read: async () => ({ pending: 3, ackPending: 0 }) }, { clock });
    const scraping = scrape(registry);
    await new Promise((r) => setImmediate(r));
    clock.advance(500);
    const parsed = await scraping;
    expect(parsed.samples.filter((s) => s.name === 'maestro_consumer_lag_messages').map((s) => s.labels.consumer)).toEqual(['fine']);
    expect(stuckSignal?.aborted).toBe(true);
    // The failure counter is read in parallel with the gauges: it shows from the next scrape.
    const next = scrape(registry);
    await new Promise((r) => setImmediate(r));
    clock.advance(500);
    expect(sampleValue(await next, 'maestro_consumer_info_failures_total', { consumer: 'stuck' })).toBe(1);
  });

  it('stops reporting a consumer once untracked', async () => {
    const registry = new Registry();
    const untrack = trackConsumerBacklog(registry, { stream: 'S', consumer: 'c', read: async () => ({ pending: 1, ackPending: 0 }) });
    expect(sampleValue(await scrape(registry), 'maestro_consumer_lag_messages', { consumer: 'c' })).toBe(1);
    untrack();
    expect((await scrape(registry)).samples.filter((s) => s.name === 'maestro_consumer_lag_messages')).toEqual([]);
  });
});
