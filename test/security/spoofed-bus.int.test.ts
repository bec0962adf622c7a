/**
 * Spoofed NATS control messages, against the real NATS server: a fake subtask result and a fake
 * escalation (the message that makes Orion decide), published by a client that can reach NATS
 * but has no key, with a wrong key, tampered, signed long ago or replayed, are dead-lettered
 * with their reason and never reach the consumer's handler (where the orchestrator changes a
 * task) nor its dead-letter hook (which would record a failed result); signed ones are handled.
 * The consumers are durable consumers of the production streams, filters and names, started by
 * a bus holding the key as the orchestrator's does (`signing: busSigningFrom(config)`).
 *
 * Forged `task.updated` cancels (unsigned, wrong key, stale) reach the executor's live task-end
 * subscription and its replay of stored events, the executor's own code on a keyed bus: neither
 * records the task as ended, so its running work is not stopped; a signed cancel does stop it.
 */
import { randomUUID } from 'node:crypto';
import { connectBus, MessageSigner, SignatureRejections, tracedHeaders, type Bus, type WorkConsumer } from '@maestro/bus';
import { Consumers, DeadLetterHeaders, Streams, Subjects, SubtaskResultSchema, type SubtaskResult } from '@maestro/contracts';
import { EndedTasks } from '../../services/executor/src/domain/ended-tasks.js';
import { subscribeTaskEnds } from '../../services/executor/src/transport/nats/task-events.subscriber.js';
import { replayTaskEnds } from '../../services/executor/src/transport/nats/task-events.replay.js';
import { createSilentLogger, ManualClock, systemClock } from '@maestro/runtime';
import { testNamespace, testServers } from '@maestro/testing';
import { CaseTable } from './case-table.js';

const key = `${randomUUID()}${randomUUID()}`;
const table = new CaseTable('spoofed NATS control messages');
const logger = createSilentLogger();

let service: Bus;
let attacker: Bus;
let consumers: WorkConsumer[] = [];
/** What reached a handler: the orchestrator would have changed a task for each. */
const handled: string[] = [];
/** What reached a dead-letter hook: the orchestrator would have recorded a failed result. */
const hooked: string[] = [];

function result(workId: string, ok = true): SubtaskResult {
  return { workId, taskId: 'task-1', runId: 'run-1', subtaskId: 's1', attempt: 1, ok, summary: 'done', filesChanged: ['a.txt'], executorId: 'executor-1', steps: 1, finishedAt: new Date().toISOString() };
}

/** A fake escalation: the failed result it stands for plus the fields Orion decides on. */
function escalation(escalationId: string): Record<string, unknown> {
  return { escalationId, taskId: 'task-1', runId: 'run-1', subtaskId: 's1', attempt: 1, executorId: 'executor-1', raisedAt: new Date().toISOString(), result: { ...result(escalationId, false), failureReason: 'x' } };
}

/** The id a handled or dead-lettered payload names. */
function idOf(payload: unknown): string {
  const p = payload as { workId?: string; escalationId?: string };
  return p.escalationId ?? p.workId ?? '?';
}

/** Publishes raw bytes with `headers` through the attacker's connection (no key). */
async function publishRaw(subject: string, payload: unknown, sign?: (wireSubject: string, body: string, headers: ReturnType<typeof tracedHeaders>) => void): Promise<void> {
  const wire = attacker.namespace.subject(subject);
  const body = JSON.stringify(payload);
  const headers = tracedHeaders();
  sign?.(wire, body, headers);
  await attacker.js.publish(wire, body, { headers });
}

/** The dead letters stored for `subject`, id → reason. */
async function deadLetters(subject: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const stream = service.namespace.stream(Streams.deadLetter.name);
  const info = await service.jsm.streams.info(stream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await service.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (!msg || msg.subject !== service.namespace.subject(Subjects.deadLetter(subject))) continue;
    found.set(idOf(msg.json()), msg.header.get(DeadLetterHeaders.reason));
  }
  return found;
}

async function eventually(probe: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const until = Date.now() + 20_000;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const namespace = testNamespace('sec');
  service = await connectBus({ url: testServers.natsUrl, name: 'orchestrator', logger, namespace, streamLimits: { storage: 'memory' }, signing: { key } });
  attacker = await connectBus({ url: testServers.natsUrl, name: 'attacker', logger, namespace, streamLimits: { storage: 'memory' } });
  await service.ensureStreams();
  const record = async (payload: unknown): Promise<void> => void handled.push(idOf(payload));
  const hook = async (deadLetter: { payload: unknown; raw: string }): Promise<void> => void hooked.push(deadLetter.raw);
  consumers = [
    await service.consume({ stream: Streams.results.name, durable: Consumers.orchestratorSubtaskResults, filterSubject: Subjects.subtaskResult, schema: SubtaskResultSchema, handler: record, onDeadLetter: hook, maxDeliver: 1 }),
    await service.consume({
      stream: Streams.escalations.name,
      durable: Consumers.orchestratorEscalations,
      filterSubject: Subjects.escalations,
      // Only what routing needs: the forged ones must be refused before any schema runs.
      schema: SubtaskResultSchema.pick({ taskId: true, subtaskId: true, attempt: true }).loose(),
      handler: record,
      onDeadLetter: hook,
      maxDeliver: 1,
    }),
  ];
});

afterAll(async () => {
  for (const consumer of consumers) await consumer.stop();
  for (const spec of Object.values(Streams)) await service.jsm.streams.delete(service.namespace.stream(spec.name)).catch(() => undefined);
  await attacker.close();
  await service.close();
  table.print();
});

it('dead-letters forged, tampered, stale and replayed results and escalations, and handles signed ones', async () => {
  const wrongKey = new MessageSigner({ key: 'not-the-cluster-key-but-32-bytes-long!', signer: 'orchestrator' });
  const rightKey = new MessageSigner({ key, signer: 'executor-1' });
  const longAgo = new MessageSigner({ key, signer: 'executor-1', clock: new ManualClock(Date.now() - 60 * 60 * 1000) });
  const escalationSubject = Subjects.escalation('task-1');

  // Forgeries (each id names what it tries).
  await publishRaw(Subjects.subtaskResult, result('result-unsigned'));
  await publishRaw(Subjects.subtaskResult, result('result-wrong-key'), (s, b, h) => wrongKey.sign(s, b, h));
  await publishRaw(Subjects.subtaskResult, result('result-tampered'), (s, _b, h) => rightKey.sign(s, JSON.stringify(result('result-tampered', false)), h));
  await publishRaw(Subjects.subtaskResult, result('result-stale'), (s, b, h) => longAgo.sign(s, b, h));
  await publishRaw(escalationSubject, escalation('escalation-unsigned'));
  await publishRaw(escalationSubject, escalation('escalation-wrong-key'), (s, b, h) => wrongKey.sign(s, b, h));
  await publishRaw(escalationSubject, escalation('escalation-stale'), (s, b, h) => longAgo.sign(s, b, h));
  // A signed result captured off the wire and published again: the first copy is genuine.
  const captured = tracedHeaders();
  const capturedBody = JSON.stringify(result('result-replayed'));
  rightKey.sign(attacker.namespace.subject(Subjects.subtaskResult), capturedBody, captured);
  await attacker.js.publish(attacker.namespace.subject(Subjects.subtaskResult), capturedBody, { headers: captured });
  await eventually(() => handled.includes('result-replayed'), 'the genuine copy');
  await attacker.js.publish(attacker.namespace.subject(Subjects.subtaskResult), capturedBody, { headers: captured });

  // Genuine messages, signed by a bus holding the key.
  await service.publish(Subjects.subtaskResult, result('result-signed'));
  await service.publish(escalationSubject, escalation('escalation-signed'));

  const expectations: Array<{ subject: string; id: string; rejection: string }> = [
    { subject: Subjects.subtaskResult, id: 'result-unsigned', rejection: SignatureRejections.unsigned },
    { subject: Subjects.subtaskResult, id: 'result-wrong-key', rejection: SignatureRejections.badSignature },
    { subject: Subjects.subtaskResult, id: 'result-tampered', rejection: SignatureRejections.badSignature },
    { subject: Subjects.subtaskResult, id: 'result-stale', rejection: SignatureRejections.stale },
    { subject: Subjects.subtaskResult, id: 'result-replayed', rejection: SignatureRejections.replayed },
    { subject: escalationSubject, id: 'escalation-unsigned', rejection: SignatureRejections.unsigned },
    { subject: escalationSubject, id: 'escalation-wrong-key', rejection: SignatureRejections.badSignature },
    { subject: escalationSubject, id: 'escalation-stale', rejection: SignatureRejections.stale },
  ];
  let letters = new Map<string, string>();
  await eventually(async () => {
    letters = new Map([...(await deadLetters(Subjects.subtaskResult)), ...(await deadLetters(escalationSubject))]);
    return expectations.every((e) => letters.has(e.id)) && handled.includes('result-signed') && handled.includes('escalation-signed');
  }, 'every forgery dead-lettered and every signed message handled');

  for (const e of expectations) {
    const reason = letters.get(e.id) ?? '(no dead letter)';
    const reachedHandler = handled.filter((id) => id === e.id).length - (e.id === 'result-replayed' ? 1 : 0);
    table.record({
      case: `${e.id} on ${e.subject}`,
      expected: `dead letter ${e.rejection}, not handled`,
      got: `${reason.split(':')[0]}${reachedHandler > 0 ? ', HANDLED' : ', not handled'}`,
      pass: reason.startsWith(`${e.rejection}:`) && reachedHandler === 0,
    });
  }
  for (const id of ['result-signed', 'escalation-signed']) {
    table.record({ case: `${id} (signed with the cluster key)`, expected: 'handled once', got: `handled ${handled.filter((h) => h === id).length}x`, pass: handled.filter((h) => h === id).length === 1 });
  }
  table.record({ case: 'dead-letter hook for refused messages', expected: 'never called (nothing recorded)', got: `${hooked.length} calls`, pass: hooked.length === 0 });

  expect(table.failures()).toEqual([]);
});

it('never stops an executor\'s work on a forged task.updated cancel, heard live or replayed from the stream', async () => {
  const wrongKey = new MessageSigner({ key: 'not-the-cluster-key-but-32-bytes-long!', signer: 'orchestrator' });
  const longAgo = new MessageSigner({ key, signer: 'orchestrator', clock: new ManualClock(Date.now() - 60 * 60 * 1000) });
  const cancel = (taskId: string) => ({ taskId, tenant: 'default', runId: 'run-1', status: 'cancelled', at: new Date().toISOString() });

  // The executor's live subscription, on a bus holding the key; `stopped` stands for its running work of each task.
  const ended = new EndedTasks();
  const stopped: string[] = [];
  for (const taskId of ['task-unsigned', 'task-wrong-key', 'task-stale', 'task-signed']) ended.watch(taskId, () => void stopped.push(taskId));
  const subscription = await subscribeTaskEnds(service, ended, logger);
  try {
    await publishRaw(Subjects.taskUpdated, cancel('task-unsigned'));
    await publishRaw(Subjects.taskUpdated, cancel('task-wrong-key'), (s, b, h) => wrongKey.sign(s, b, h));
    await publishRaw(Subjects.taskUpdated, cancel('task-stale'), (s, b, h) => longAgo.sign(s, b, h));
    // The genuine cancel comes last: once it is heard, every forgery has been seen.
    await service.publish(Subjects.taskUpdated, cancel('task-signed'));
    await eventually(() => stopped.includes('task-signed'), 'the signed cancel');
  } finally {
    subscription.unsubscribe();
  }

  // An executor started later replays the stored events, forgeries included.
  const replayed = new EndedTasks();
  const summary = await replayTaskEnds(service, replayed, logger, { clock: systemClock });

  for (const taskId of ['task-unsigned', 'task-wrong-key', 'task-stale']) {
    table.record({
      case: `forged task.updated cancel of ${taskId}`,
      expected: 'work not stopped, live or on replay',
      got: `live: ${stopped.includes(taskId) ? 'STOPPED' : 'not stopped'}; replay: ${replayed.get(taskId) ?? 'not ended'}`,
      pass: !stopped.includes(taskId) && replayed.get(taskId) === undefined,
    });
  }
  table.record({
    case: 'signed task.updated cancel (cluster key)',
    expected: 'work stopped, live and on replay',
    got: `live: ${stopped.includes('task-signed') ? 'stopped' : 'NOT STOPPED'}; replay: ${replayed.get('task-signed') ?? 'not ended'}`,
    pass: stopped.includes('task-signed') && replayed.get('task-signed') === 'cancelled',
  });
  table.record({ case: 'replay counts the forgeries', expected: '3 unauthenticated', got: `${summary.unauthenticated} unauthenticated`, pass: summary.unauthenticated === 3 });

  expect(table.failures()).toEqual([]);
});
