/**
 * A captured signed message published again, against the real NATS server, with the consumer's
 * durable shared by two replicas (two buses, so two processes' worth of remembered ids): inside
 * the duplicate window the stream itself drops the copy (the signature covers `Nats-Msg-Id`, so
 * it must keep the original's), so neither replica sees it; with another `Nats-Msg-Id` it fails
 * the signature; after the duplicate window, which follows the signing window (twice it), it is
 * stale. The genuine message is handled once.
 */
import { randomUUID } from 'node:crypto';
import { DeadLetterHeaders, Streams, Subjects, SubtaskResultSchema, type SubtaskResult } from '@maestro/contracts';
import { createSilentLogger } from '@maestro/runtime';
import { connectBus, DEDUP_HEADER, MessageSigner, SignatureRejections, tracedHeaders, type Bus, type WorkConsumer } from '@maestro/bus';

const natsUrl = 'nats://127.0.0.1:4222';
const key = `${randomUUID()}${randomUUID()}`;
const logger = createSilentLogger();
/** Short, so the test can outlive the duplicate window (twice this). */
const signingWindowMs = 1_500;

let replicas: Bus[] = [];
let attacker: Bus;
let consumers: WorkConsumer[] = [];
const handled: string[] = [];

function result(workId: string): SubtaskResult {
  return { workId, taskId: 'task-1', runId: 'run-1', subtaskId: 's1', attempt: 1, ok: true, summary: 'done', filesChanged: [], executorId: 'executor-1', steps: 1, finishedAt: new Date().toISOString() };
}

async function eventually(probe: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const until = Date.now() + 20_000;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The reasons of the dead letters of subtask results, in order. */
async function deadLetterReasons(): Promise<string[]> {
  const bus = replicas[0]!;
  const stream = bus.namespace.stream(Streams.deadLetter.name);
  const info = await bus.jsm.streams.info(stream);
  const reasons: string[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const msg = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (msg) reasons.push(msg.header.get(DeadLetterHeaders.reason));
  }
  return reasons;
}

beforeAll(async () => {
  const namespace = `t${randomUUID().slice(0, 8)}`;
  const common = { url: natsUrl, logger, namespace, streamLimits: { storage: 'memory' as const } };
  for (const name of ['orchestrator-a', 'orchestrator-b']) replicas.push(await connectBus({ ...common, name, signing: { key, windowMs: signingWindowMs } }));
  attacker = await connectBus({ ...common, name: 'attacker' });
  await replicas[0]!.ensureStreams();
  for (const bus of replicas) {
    consumers.push(
      await bus.consume({
        stream: Streams.results.name,
        durable: 'replay-test',
        filterSubject: Subjects.subtaskResult,
        schema: SubtaskResultSchema,
        maxDeliver: 1,
        handler: async (payload) => void handled.push(payload.workId),
      }),
    );
  }
});

afterAll(async () => {
  for (const consumer of consumers) await consumer.stop();
  for (const spec of Object.values(Streams)) await attacker.jsm.streams.delete(attacker.namespace.stream(spec.name)).catch(() => undefined);
  for (const bus of [...replicas, attacker]) await bus.close();
});

it('sets the streams\' duplicate window to twice the signing window', async () => {
  const info = await attacker.jsm.streams.info(attacker.namespace.stream(Streams.results.name));
  expect(info.config.duplicate_window).toBe(2 * signingWindowMs * 1_000_000);
});

it('never hands a replayed signed message to any replica: dropped by the stream, refused by its signature, or stale', async () => {
  // A genuine result, signed with the cluster key, as captured off the wire.
  const wire = attacker.namespace.subject(Subjects.subtaskResult);
  const body = JSON.stringify(result('genuine'));
  const captured = tracedHeaders();
  new MessageSigner({ key, signer: 'executor-1' }).sign(wire, body, captured);
  expect((await attacker.js.publish(wire, body, { headers: captured })).duplicate).toBe(false);
  await eventually(() => handled.includes('genuine'), 'the genuine result');

  // Published again at once: the stream drops it as a repeated Nats-Msg-Id.
  expect((await attacker.js.publish(wire, body, { headers: captured })).duplicate).toBe(true);

  // With another Nats-Msg-Id, to get past the deduplication: stored, and refused by its signature.
  const renamed = tracedHeaders();
  for (const [name, values] of captured) for (const value of values) renamed.append(name, value);
  renamed.set(DEDUP_HEADER, randomUUID());
  expect((await attacker.js.publish(wire, body, { headers: renamed })).duplicate).toBe(false);
  await eventually(async () => (await deadLetterReasons()).length === 1, 'the renamed copy dead-lettered');
  expect((await deadLetterReasons())[0]).toMatch(new RegExp(`^${SignatureRejections.badSignature}:`));

  // Once the server has forgotten the id (its duplicate window, twice the signing window), the copy is stale.
  await new Promise((r) => setTimeout(r, 2 * signingWindowMs + 500));
  expect((await attacker.js.publish(wire, body, { headers: captured })).duplicate).toBe(false);
  await eventually(async () => (await deadLetterReasons()).length === 2, 'the late copy dead-lettered');
  expect((await deadLetterReasons())[1]).toMatch(new RegExp(`^${SignatureRejections.stale}:`));

  expect(handled).toEqual(['genuine']);
});
