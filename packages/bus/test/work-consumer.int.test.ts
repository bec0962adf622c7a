/**
 * The work consumer against the real NATS server: exactly-once handling across two
 * consumers, malformed payloads and poison work dead-lettered, transient failures retried.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Streams, Subjects, DeadLetterHeaders } from '@maestro/contracts';
import { OperationalError, createSilentLogger } from '@maestro/runtime';
import { HandBackError, connectBus, type Bus, type DeadLetter } from '@maestro/bus';

const Item = z.object({ id: z.number() });
const natsUrl = 'nats://127.0.0.1:4222';

let bus: Bus;
let namespace: string;

beforeEach(async () => {
  namespace = `t${randomUUID().slice(0, 8)}`;
  bus = await connectBus({ url: natsUrl, name: 'bus-test', logger: createSilentLogger(), namespace, streamLimits: { storage: 'memory' } });
  await bus.ensureStreams();
});

afterEach(async () => {
  await bus.close();
  const cleanup = await connectBus({ url: natsUrl, name: 'bus-cleanup', logger: createSilentLogger() });
  for (const spec of Object.values(Streams)) await cleanup.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
  await cleanup.close();
});

function waitFor(predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (predicate()) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
}

it('two consumers on one durable handle every item exactly once', async () => {
  const seen: number[] = [];
  const options = {
    stream: Streams.work.name,
    durable: 'test-work',
    filterSubject: Subjects.workQueue('executor'),
    schema: Item,
    concurrency: 3,
    handler: async (item: { id: number }) => {
      seen.push(item.id);
    },
  };
  const a = await bus.consume(options);
  const b = await bus.consume(options);
  for (let i = 0; i < 50; i++) await bus.publish(Subjects.subtaskWork, { id: i }, { msgId: `item-${i}` });
  // Duplicate publishes inside the duplicate window are dropped by the stream.
  await bus.publish(Subjects.subtaskWork, { id: 0 }, { msgId: 'item-0' });
  await waitFor(() => seen.length >= 50);
  await a.stop();
  await b.stop();
  expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
});

it('a malformed payload is dead-lettered with its reason and never reaches the handler', async () => {
  const handled: unknown[] = [];
  const dead: DeadLetter[] = [];
  const consumer = await bus.consume({
    stream: Streams.work.name,
    durable: 'test-malformed',
    filterSubject: Subjects.workQueue('executor'),
    schema: Item,
    handler: async (item) => {
      handled.push(item);
    },
    onDeadLetter: async (d) => {
      dead.push(d);
    },
  });
  const dlq: Array<{ reason: string | undefined; subject: string | undefined }> = [];
  const sub = bus.connection.subscribe(bus.namespace.subject(Subjects.deadLetter(Subjects.subtaskWork)), {
    callback: (_err, msg) => {
      dlq.push({ reason: msg.headers?.get(DeadLetterHeaders.reason), subject: msg.headers?.get(DeadLetterHeaders.originalSubject) });
    },
  });
  await bus.publish(Subjects.subtaskWork, { id: 'not a number' });
  await bus.publish(Subjects.subtaskWork, { id: 7 });
  await waitFor(() => handled.length === 1 && dead.length === 1 && dlq.length === 1);
  await consumer.stop();
  sub.unsubscribe();
  expect(handled).toEqual([{ id: 7 }]);
  expect(dead[0]!.reason).toMatch(/malformed payload: id: /);
  expect(dlq[0]!.subject).toBe(Subjects.subtaskWork);
});

it('transient failures are retried; poison work reaches the dead letter after maxDeliver tries', async () => {
  const attempts = new Map<number, number>();
  const done: number[] = [];
  const dead: DeadLetter[] = [];
  const consumer = await bus.consume({
    stream: Streams.work.name,
    durable: 'test-poison',
    filterSubject: Subjects.workQueue('executor'),
    schema: Item,
    maxDeliver: 3,
    backoffMs: () => 10,
    concurrency: 2,
    handler: async (item, delivery) => {
      attempts.set(item.id, delivery.deliveryCount);
      if (item.id === 13) throw new OperationalError('ALWAYS', 'poison');
      if (item.id === 2 && delivery.deliveryCount === 1) throw new OperationalError('ONCE', 'flaky');
      done.push(item.id);
    },
    onDeadLetter: async (d) => {
      dead.push(d);
    },
  });
  for (const id of [1, 2, 13, 4]) await bus.publish(Subjects.subtaskWork, { id });
  await waitFor(() => done.length === 3 && dead.length === 1);
  await consumer.stop();
  expect(done.sort()).toEqual([1, 2, 4]);
  expect(attempts.get(2)).toBe(2);
  expect(attempts.get(13)).toBe(3);
  expect(dead[0]).toMatchObject({ deliveries: 3, payload: { id: 13 } });
  expect(dead[0]!.reason).toMatch(/failed 3 times.*poison/);
});

it('hand-backs are redelivered without ever using up the last delivery', async () => {
  let calls = 0;
  const done: number[] = [];
  const dead: DeadLetter[] = [];
  const consumer = await bus.consume({
    stream: Streams.work.name,
    durable: 'test-handback',
    filterSubject: Subjects.workQueue('executor'),
    schema: Item,
    maxDeliver: 2,
    handler: async (item) => {
      calls++;
      if (calls <= 4) throw new HandBackError('shutting down');
      done.push(item.id);
    },
    onDeadLetter: async (d) => {
      dead.push(d);
    },
  });
  // With a msgId, as all work is published: the re-published copy must not be taken for a duplicate.
  await bus.publish(Subjects.subtaskWork, { id: 99 }, { msgId: 'handback-99' });
  await waitFor(() => done.length === 1);
  await consumer.stop();
  expect(done).toEqual([99]);
  expect(calls).toBe(5);
  expect(dead).toEqual([]);
});
