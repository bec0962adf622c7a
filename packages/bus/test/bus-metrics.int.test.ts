/**
 * What the bus reports to Prometheus, against the real NATS server: dead letters by reason,
 * and a work consumer's lag and depth as JetStream counts them, read at scrape time.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Streams, Subjects } from '@maestro/contracts';
import { createSilentLogger, invalidField, parsePrometheusText, Registry, sampleValue } from '@maestro/runtime';
import { connectBus, type Bus } from '@maestro/bus';

const Item = z.object({ id: z.number() });
const natsUrl = 'nats://127.0.0.1:4222';

let bus: Bus;
let registry: Registry;

beforeEach(async () => {
  registry = new Registry();
  bus = await connectBus({
    url: natsUrl,
    name: 'bus-metrics-test',
    logger: createSilentLogger(),
    namespace: `t${randomUUID().slice(0, 8)}`,
    streamLimits: { storage: 'memory' },
    metrics: registry,
  });
  await bus.ensureStreams();
});

afterEach(async () => {
  await bus.close();
  const cleanup = await connectBus({ url: natsUrl, name: 'bus-cleanup', logger: createSilentLogger() });
  for (const spec of Object.values(Streams)) await cleanup.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
  await cleanup.close();
});

async function scrape() {
  return parsePrometheusText(await registry.metrics());
}

async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

it('counts dead letters by consumer and reason', async () => {
  const consumer = await bus.consume({
    stream: Streams.work.name,
    durable: 'test-dead',
    filterSubject: Subjects.workQueue('executor'),
    schema: Item,
    handler: async (item) => {
      if (item.id === 2) throw invalidField('id', 'id 2 is refused');
    },
  });
  await bus.publish(Subjects.subtaskWork, { nope: true });
  await bus.publish(Subjects.subtaskWork, { id: 1 });
  await bus.publish(Subjects.subtaskWork, { id: 2 });
  await eventually(async () => sampleValue(await scrape(), 'maestro_dead_letters_total') >= 2);
  await consumer.stop();
  const parsed = await scrape();
  expect(sampleValue(parsed, 'maestro_dead_letters_total', { consumer: 'test-dead', reason: 'malformed' })).toBe(1);
  expect(sampleValue(parsed, 'maestro_dead_letters_total', { consumer: 'test-dead', reason: 'rejected' })).toBe(1);
  expect(sampleValue(parsed, 'maestro_dead_letters_total', { reason: 'exhausted' })).toBe(0);
});

it('reports the consumer lag and work queue depth JetStream holds, and drops the consumer once stopped', async () => {
  for (let id = 0; id < 5; id++) await bus.publish(Subjects.subtaskWork, { id });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started = 0;
  const consumer = await bus.consume({
    stream: Streams.work.name,
    durable: 'test-lag',
    filterSubject: Subjects.workQueue('executor'),
    schema: Item,
    concurrency: 1,
    handler: async () => {
      started++;
      await gate;
    },
  });
  const labels = { stream: bus.namespace.stream(Streams.work.name), consumer: bus.namespace.consumer('test-lag') };
  await eventually(async () => started === 1);
  let parsed = await scrape();
  expect(sampleValue(parsed, 'maestro_consumer_lag_messages', labels)).toBe(4);
  expect(sampleValue(parsed, 'maestro_work_queue_depth', labels)).toBe(5);

  release();
  await eventually(async () => sampleValue(await scrape(), 'maestro_work_queue_depth', labels) === 0);
  parsed = await scrape();
  expect(sampleValue(parsed, 'maestro_consumer_lag_messages', labels)).toBe(0);
  expect(started).toBe(5);

  await consumer.stop();
  parsed = await scrape();
  expect(parsed.samples.filter((s) => s.name === 'maestro_work_queue_depth')).toEqual([]);
});
