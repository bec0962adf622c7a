/**
 * Live subscriptions verify signatures, against the real NATS server: a bus holding the key
 * hears what is signed with it (published through JetStream or core NATS) and drops, counts by
 * reason and never hands to its handler what is unsigned, signed with another key, tampered,
 * signed long ago or a captured message published again; a bus without a key hears everything.
 */
import { randomUUID } from 'node:crypto';
import { Streams, Subjects } from '@maestro/contracts';
import { createSilentLogger, ManualClock, parsePrometheusText, Registry, sampleValue } from '@maestro/runtime';
import { connectBus, MessageSigner, tracedHeaders, type Bus } from '@maestro/bus';

const natsUrl = 'nats://127.0.0.1:4222';
const key = `${randomUUID()}${randomUUID()}`;
const logger = createSilentLogger();
const subject = Subjects.taskUpdated;

let namespace: string;
let registry: Registry;
let signed: Bus;
let unsigned: Bus;
let attacker: Bus;
let otherKey: Bus;
/** Another service holding the cluster key. */
let peer: Bus;

beforeEach(async () => {
  namespace = `t${randomUUID().slice(0, 8)}`;
  registry = new Registry();
  const common = { url: natsUrl, logger, namespace, streamLimits: { storage: 'memory' as const } };
  signed = await connectBus({ ...common, name: 'executor-1', metrics: registry, signing: { key } });
  unsigned = await connectBus({ ...common, name: 'local-run', metrics: new Registry(), signing: { unsigned: true } });
  attacker = await connectBus({ ...common, name: 'attacker', metrics: new Registry() });
  otherKey = await connectBus({ ...common, name: 'orchestrator', metrics: new Registry(), signing: { key: 'not-the-cluster-key-but-32-bytes-long!' } });
  peer = await connectBus({ ...common, name: 'orchestrator', metrics: new Registry(), signing: { key } });
  await signed.ensureStreams();
});

afterEach(async () => {
  for (const spec of Object.values(Streams)) await signed.jsm.streams.delete(signed.namespace.stream(spec.name)).catch(() => undefined);
  for (const bus of [signed, unsigned, attacker, otherKey, peer]) await bus.close();
});

/** Subscribes `bus` and returns the ids its handler got, in order. */
function listen(bus: Bus): string[] {
  const heard: string[] = [];
  bus.subscribe(subject, null, (payload) => void heard.push((payload as { id: string }).id));
  return heard;
}

/** Publishes `body` with `headers` on the attacker's raw connection (no key of its own). */
function publishRaw(body: string, headers = tracedHeaders()): void {
  attacker.connection.publish(attacker.namespace.subject(subject), body, { headers });
}

async function eventually(probe: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rejected(reason: string): Promise<number> {
  return sampleValue(parsePrometheusText(await registry.metrics()), 'maestro_live_messages_rejected_total', { subscription: subject, reason });
}

it('hands signed messages to the handler and drops unsigned, forged, tampered, stale and replayed ones', async () => {
  const heard = listen(signed);
  await signed.connection.flush();
  const wire = attacker.namespace.subject(subject);
  const rightKey = new MessageSigner({ key, signer: 'orchestrator' });
  const longAgo = new MessageSigner({ key, signer: 'orchestrator', clock: new ManualClock(Date.now() - 60 * 60 * 1000) });

  attacker.publishLive(subject, { id: 'unsigned' });
  otherKey.publishLive(subject, { id: 'wrong-key' });
  const tampered = tracedHeaders();
  rightKey.sign(wire, JSON.stringify({ id: 'tampered', status: 'running' }), tampered);
  publishRaw(JSON.stringify({ id: 'tampered', status: 'cancelled' }), tampered);
  const stale = tracedHeaders();
  longAgo.sign(wire, JSON.stringify({ id: 'stale' }), stale);
  publishRaw(JSON.stringify({ id: 'stale' }), stale);
  // A genuine message captured off the wire and published again.
  const captured = tracedHeaders();
  rightKey.sign(wire, JSON.stringify({ id: 'captured' }), captured);
  publishRaw(JSON.stringify({ id: 'captured' }), captured);
  publishRaw(JSON.stringify({ id: 'captured' }), captured);
  await attacker.connection.flush();
  await otherKey.connection.flush();

  // Genuine ones, after the forgeries: once they are heard, every forgery has been seen too.
  await peer.publish(subject, { id: 'signed-jetstream' });
  peer.publishLive(subject, { id: 'signed-live' });
  await eventually(() => heard.includes('signed-jetstream') && heard.includes('signed-live'), 'the signed messages');

  expect(heard).toEqual(['captured', 'signed-jetstream', 'signed-live']);
  expect(await rejected('unsigned')).toBe(1);
  expect(await rejected('bad_signature')).toBe(2);
  expect(await rejected('stale')).toBe(1);
  expect(await rejected('replayed')).toBe(1);
});

it('delivers one signed message to each of two overlapping subscriptions of one bus', async () => {
  const first = listen(signed);
  const second: string[] = [];
  signed.subscribe('maestro.events.>', null, (payload) => void second.push((payload as { id: string }).id));
  await signed.connection.flush();
  signed.publishLive(subject, { id: 'both' });
  await eventually(() => first.length === 1 && second.length === 1, 'both subscriptions');
  expect([first, second]).toEqual([['both'], ['both']]);
  expect(await rejected('replayed')).toBe(0);
});

it('accepts unsigned and signed messages on a bus running unsigned (MAESTRO_BUS_UNSIGNED)', async () => {
  const heard = listen(unsigned);
  await unsigned.connection.flush();
  attacker.publishLive(subject, { id: 'unsigned' });
  await attacker.connection.flush();
  peer.publishLive(subject, { id: 'signed' });
  await eventually(() => heard.length === 2, 'both messages');
  expect(heard).toEqual(['unsigned', 'signed']);
});
