/**
 * Nothing published carries a secret, against the real NATS server: a payload that quotes a key
 * (a step's observation, an event's message) arrives with the key replaced by its marker.
 */
import { randomUUID } from 'node:crypto';
import { Streams, Subjects } from '@maestro/contracts';
import { createSecretRegistry, createSilentLogger } from '@maestro/runtime';
import { connectBus, type Bus } from '@maestro/bus';

const natsUrl = 'nats://127.0.0.1:4222';
const canary = `sk-canary-bus-${randomUUID()}`;

let bus: Bus;

beforeEach(async () => {
  bus = await connectBus({
    url: natsUrl,
    name: 'bus-redaction-test',
    logger: createSilentLogger(),
    namespace: `t${randomUUID().slice(0, 8)}`,
    streamLimits: { storage: 'memory' },
    redactor: createSecretRegistry({ env: { OPENAI_API_KEY: canary } }),
  });
  await bus.ensureStreams();
});

afterEach(async () => {
  await bus.close();
  const cleanup = await connectBus({ url: natsUrl, name: 'bus-cleanup', logger: createSilentLogger() });
  for (const spec of Object.values(Streams)) await cleanup.jsm.streams.delete(bus.namespace.stream(spec.name)).catch(() => undefined);
  await cleanup.close();
});

it('redacts every string of a published payload and keeps it valid JSON', async () => {
  const subject = Subjects.workStep;
  const received = new Promise<unknown>((resolve) => {
    bus.subscribe(subject, null, (payload) => resolve(payload));
  });
  await bus.publish(subject, { observation: `OPENAI_API_KEY=${canary}\n`, nested: { arguments: JSON.stringify({ argv: ['echo', canary] }) }, count: 2 });
  const payload = await received;
  expect(JSON.stringify(payload)).not.toContain(canary);
  expect(payload).toEqual({
    observation: 'OPENAI_API_KEY=[REDACTED:OPENAI_API_KEY]\n',
    nested: { arguments: JSON.stringify({ argv: ['echo', '[REDACTED:OPENAI_API_KEY]'] }) },
    count: 2,
  });
  // What the stream stored is the redacted text too.
  const stored = await bus.jsm.streams.getMessage(bus.namespace.stream(Streams.events.name), { last_by_subj: bus.namespace.subject(subject) });
  expect(stored?.string()).not.toContain(canary);
  expect(stored?.string()).toContain('[REDACTED:OPENAI_API_KEY]');
});

it('encodes what is sent past publish the same way', () => {
  expect(bus.encode({ summary: `done with ${canary}` })).toBe('{"summary":"done with [REDACTED:OPENAI_API_KEY]"}');
});
