/**
 * Spoofed NATS control messages, against the real NATS server: a fake subtask result and a fake
 * escalation (the message that makes Orion decide), published by a client that can reach NATS
 * but has no key, with a wrong key, tampered or signed long ago, are dead-lettered with their
 * reason and never reach the consumer's handler (where the orchestrator changes a task) nor its
 * dead-letter hook (which would record a failed result); signed ones are handled. A captured
 * signed result published again is dropped by the stream (its `Nats-Msg-Id` is repeated), and
 * with another `Nats-Msg-Id` it fails the signature, which covers that id.
 * The consumers are durable consumers of the production streams, filters and names, started by
 * a bus holding the key as the orchestrator's does (`signing: busSigningFrom(config)`).
 *
 * The same forgeries of the events that services act on, on the events stream (which is not a
 * control stream, so these consumers opt in with `authenticate: true`): a `work.finished` verdict
 * (the router's measured success rates move), a `work.step` (Orion stores it and shows it to the
 * task's tenant) and a `run.finished` (Orion finishes the task). The real subscribers write to
 * recording fakes: a forgery is dead-lettered with its reason and never reaches them, a signed
 * event reaches them once.
 *
 * Forged `task.updated` cancels (unsigned, wrong key, stale) reach the executor's live task-end
 * subscription and its replay of stored events, the executor's own code on a keyed bus: neither
 * records the task as ended, so its running work is not stopped; a signed cancel does stop it.
 */
import { randomUUID } from 'node:crypto';
import { connectBus, DEDUP_HEADER, MessageSigner, SignatureRejections, tracedHeaders, type Bus, type WorkConsumer } from '@maestro/bus';
import {
  Consumers,
  DeadLetterHeaders,
  Streams,
  Subjects,
  SubtaskResultSchema,
  type RunEvent,
  type SubtaskResult,
  type WorkFinishedEvent,
  type WorkStepEvent,
} from '@maestro/contracts';
import { EndedTasks } from '../../services/executor/src/domain/ended-tasks.js';
import type { RunEventDeps } from '../../services/orchestrator/src/app/apply-run-event.js';
import type { AgentStepRecord } from '../../services/orchestrator/src/domain/agent-step.js';
import { StepRecordOutcomes, type AgentStepStore } from '../../services/orchestrator/src/store/agent-step-store.js';
import { subscribeRunEvents } from '../../services/orchestrator/src/transport/nats/run-events.subscriber.js';
import { subscribeWorkSteps } from '../../services/orchestrator/src/transport/nats/work-steps.subscriber.js';
import type { SubtaskVerdict, UsageLedger } from '../../services/router/src/store/usage-ledger.js';
import { subscribeWorkVerdicts } from '../../services/router/src/transport/nats/work-verdicts.subscriber.js';
import { subscribeTaskEnds } from '../../services/executor/src/transport/nats/task-events.subscriber.js';
import { replayTaskEnds } from '../../services/executor/src/transport/nats/task-events.replay.js';
import { createSilentLogger, ManualClock, systemClock, UnexpectedError } from '@maestro/runtime';
import { testNamespace, testServers, waitUntil } from '@maestro/testing';
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

/** The dead letters stored for `subject`, id (as `id` reads it off the payload) → reason. */
async function deadLetters(subject: string, id: (payload: unknown) => string = idOf): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const stream = service.namespace.stream(Streams.deadLetter.name);
  const info = await service.jsm.streams.info(stream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await service.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (!msg || msg.subject !== service.namespace.subject(Subjects.deadLetter(subject))) continue;
    found.set(id(msg.json()), msg.header.get(DeadLetterHeaders.reason));
  }
  return found;
}

/** Waits for `probe` (a bound for a broken run, not a timing assertion). */
const eventually = (probe: () => Promise<boolean> | boolean, what: string): Promise<void> => waitUntil(what, probe, 20_000);

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

it('dead-letters forged, tampered and stale results and escalations, drops or refuses replayed ones, and handles signed ones', async () => {
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
  const resultWire = attacker.namespace.subject(Subjects.subtaskResult);
  const captured = tracedHeaders();
  const capturedBody = JSON.stringify(result('result-replayed'));
  rightKey.sign(resultWire, capturedBody, captured);
  await attacker.js.publish(resultWire, capturedBody, { headers: captured });
  await eventually(() => handled.includes('result-replayed'), 'the genuine copy');
  // The same bytes again: the stream drops a repeated Nats-Msg-Id (which the signature covers).
  const replayAck = await attacker.js.publish(resultWire, capturedBody, { headers: captured });
  // With another Nats-Msg-Id, to get past the deduplication: stored, and refused by its signature.
  const renamed = tracedHeaders();
  for (const [name, values] of captured) for (const value of values) renamed.append(name, value);
  renamed.set(DEDUP_HEADER, randomUUID());
  await attacker.js.publish(resultWire, capturedBody, { headers: renamed });

  // Genuine messages, signed by a bus holding the key.
  await service.publish(Subjects.subtaskResult, result('result-signed'));
  await service.publish(escalationSubject, escalation('escalation-signed'));

  const expectations: Array<{ subject: string; id: string; rejection: string; how?: string }> = [
    { subject: Subjects.subtaskResult, id: 'result-unsigned', rejection: SignatureRejections.unsigned },
    { subject: Subjects.subtaskResult, id: 'result-wrong-key', rejection: SignatureRejections.badSignature },
    { subject: Subjects.subtaskResult, id: 'result-tampered', rejection: SignatureRejections.badSignature },
    { subject: Subjects.subtaskResult, id: 'result-stale', rejection: SignatureRejections.stale },
    // The copy with another Nats-Msg-Id (the one with the original's was never stored).
    { subject: Subjects.subtaskResult, id: 'result-replayed', rejection: SignatureRejections.badSignature, how: ', another Nats-Msg-Id' },
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
      case: `${e.id} on ${e.subject}${e.how ?? ''}`,
      expected: `dead letter ${e.rejection}, not handled`,
      got: `${reason.split(':')[0]}${reachedHandler > 0 ? ', HANDLED' : ', not handled'}`,
      pass: reason.startsWith(`${e.rejection}:`) && reachedHandler === 0,
    });
  }
  table.record({
    case: `result-replayed on ${Subjects.subtaskResult}, same Nats-Msg-Id`,
    expected: 'dropped by the stream as a duplicate',
    got: replayAck.duplicate ? 'dropped as a duplicate' : 'STORED',
    pass: replayAck.duplicate,
  });
  for (const id of ['result-signed', 'escalation-signed']) {
    table.record({ case: `${id} (signed with the cluster key)`, expected: 'handled once', got: `handled ${handled.filter((h) => h === id).length}x`, pass: handled.filter((h) => h === id).length === 1 });
  }
  table.record({ case: 'dead-letter hook for refused messages', expected: 'never called (nothing recorded)', got: `${hooked.length} calls`, pass: hooked.length === 0 });

  expect(table.failures()).toEqual([]);
});

/** Codes of what the recording fakes refuse: they hold no task and no run, so nothing can be created or read. */
const FakeErrors = { noTasks: 'RECORDING_STORE_HAS_NO_TASKS', noRuns: 'RECORDING_ENGINE_HAS_NO_RUNS' } as const;

/** A `work.finished` verdict of a successful attempt; `taskId` names the case. */
function verdict(taskId: string): WorkFinishedEvent {
  return { taskId, runId: 'run-1', subtaskId: 's1', attempt: 1, ok: true, summary: 'done', filesChanged: ['a.txt'], executorId: 'executor-1', finishedAt: new Date().toISOString() };
}

/** A `work.step` of a tool call; `taskId` names the case. */
function step(taskId: string): WorkStepEvent {
  return { taskId, runId: 'run-1', subtaskId: 's1', executorId: 'executor-1', attempt: 1, step: 0, kind: 'tool', tool: 'exec', summary: 'ran the tests', ok: true, at: new Date().toISOString() };
}

/** A `run.finished` of a run that succeeded; `runId` names the case. */
function runFinished(runId: string): RunEvent {
  return { runId, tenant: 'default', definitionName: 'coding', status: 'done', state: 'done', at: new Date().toISOString() };
}

/** The router's usage ledger, keeping every verdict it is given: routing reads them as success rates. */
function recordingLedger(): Pick<UsageLedger, 'recordVerdict'> & { verdicts: SubtaskVerdict[] } {
  const verdicts: SubtaskVerdict[] = [];
  return { verdicts, recordVerdict: async (v) => void verdicts.push(v) };
}

/** Orion's step store, keeping every step it is asked to record: the task's tenant would be shown them. */
function recordingStepStore(): AgentStepStore & { recorded: AgentStepRecord[] } {
  const recorded: AgentStepRecord[] = [];
  return {
    recorded,
    record: async (s) => {
      recorded.push(s);
      return StepRecordOutcomes.recorded;
    },
    noteSubtaskExecutor: async () => undefined,
    taskExists: async () => false,
    list: async () => [],
    deleteStepsOfFinishedTasks: async () => 0,
  };
}

/** One call the run-event consumer made on what it acts through: which method, with what. */
interface DepCall {
  method: string;
  args: unknown[];
}

/**
 * Orion's task store, workflow-engine client and task events as the run-event consumer gets them,
 * every call recorded (its dead-letter hook, which asks the engine, included). They know no task
 * and no run: a lookup finds nothing, so a call that got through changes nothing here, and the
 * record shows what the real ones would have been asked.
 */
function recordingRunEventDeps(): RunEventDeps & { calls: DepCall[] } {
  const calls: DepCall[] = [];
  const call = (method: string, ...args: unknown[]): void => void calls.push({ method, args });
  return {
    calls,
    store: {
      insertTask: async (task) => {
        call('store.insertTask', task);
        throw new UnexpectedError(FakeErrors.noTasks, 'the recording store stores no task');
      },
      getTask: async (taskId) => void call('store.getTask', taskId),
      findByIdempotencyKey: async (idempotencyKey, tenant) => void call('store.findByIdempotencyKey', idempotencyKey, tenant),
      findTaskIdByRunId: async (runId) => void call('store.findTaskIdByRunId', runId),
      listTasks: async (query) => {
        call('store.listTasks', query);
        return { tasks: [], next: null };
      },
      listUnstartedTasks: async (limit) => {
        call('store.listUnstartedTasks', limit);
        return [];
      },
      listInterruptedReflexes: async (now, limit) => {
        call('store.listInterruptedReflexes', now, limit);
        return [];
      },
      withLockedTask: async (taskId) => void call('store.withLockedTask', taskId),
    },
    workflow: {
      startRun: async (request) => {
        call('workflow.startRun', request);
        throw new UnexpectedError(FakeErrors.noRuns, 'the recording engine has no runs');
      },
      sendEvent: async (request) => {
        call('workflow.sendEvent', request);
        throw new UnexpectedError(FakeErrors.noRuns, 'the recording engine has no runs');
      },
      getRun: async (request) => {
        call('workflow.getRun', request);
        throw new UnexpectedError(FakeErrors.noRuns, 'the recording engine has no runs');
      },
      recordRunNote: async (request) => {
        call('workflow.recordRunNote', request);
        throw new UnexpectedError(FakeErrors.noRuns, 'the recording engine has no runs');
      },
    },
    taskEvents: { updated: async (task, reason) => void call('taskEvents.updated', task, reason) },
  };
}

it('dead-letters forged work verdicts, agent steps and run events on the events stream, and handles signed ones', async () => {
  const wrongKey = new MessageSigner({ key: 'not-the-cluster-key-but-32-bytes-long!', signer: 'executor-1' });
  const rightKey = new MessageSigner({ key, signer: 'executor-1' });
  const longAgo = new MessageSigner({ key, signer: 'executor-1', clock: new ManualClock(Date.now() - 60 * 60 * 1000) });
  const ledger = recordingLedger();
  const steps = recordingStepStore();
  const runDeps = recordingRunEventDeps();
  const field = (name: 'taskId' | 'runId') => (payload: unknown): string => {
    const value = (payload as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : '?';
  };
  /** Per event: the id field naming the case, what the attacker flips after signing, and how often the consumer's fake saw an id. */
  const kinds = [
    {
      kind: 'verdict',
      subject: Subjects.workFinished,
      make: verdict,
      id: field('taskId'),
      signedAs: { ok: false },
      fake: 'usage ledger',
      reached: (id: string) => ledger.verdicts.filter((v) => v.taskId === id).length,
    },
    {
      kind: 'step',
      subject: Subjects.workStep,
      make: step,
      id: field('taskId'),
      signedAs: { summary: 'read a.txt', tool: 'fs.read' },
      fake: 'step store',
      reached: (id: string) => steps.recorded.filter((s) => s.taskId === id).length,
    },
    {
      kind: 'run',
      subject: Subjects.runFinished,
      make: runFinished,
      id: field('runId'),
      signedAs: { status: 'failed', state: 'failed' },
      fake: 'task store, engine or task events',
      // Any call whose arguments name the run: its task's lookup, the dead-letter hook's GetRun, …
      reached: (id: string) => runDeps.calls.filter((c) => JSON.stringify(c.args).includes(JSON.stringify(id))).length,
    },
  ] as const;
  const forgeries = [
    { name: 'unsigned', rejection: SignatureRejections.unsigned },
    { name: 'wrong-key', rejection: SignatureRejections.badSignature },
    { name: 'tampered', rejection: SignatureRejections.badSignature },
    { name: 'stale', rejection: SignatureRejections.stale },
  ] as const;

  // The real consumers, on the bus holding the key.
  const started = [await subscribeWorkVerdicts(service, ledger), await subscribeWorkSteps(service, steps), await subscribeRunEvents(service, runDeps, logger)];
  const letters = new Map<string, Map<string, string>>();
  try {
    for (const k of kinds) {
      await publishRaw(k.subject, k.make(`${k.kind}-unsigned`));
      await publishRaw(k.subject, k.make(`${k.kind}-wrong-key`), (s, b, h) => wrongKey.sign(s, b, h));
      // Signed as a real event said it (a failure, another tool), published as the attacker wants it.
      const tampered = k.make(`${k.kind}-tampered`);
      await publishRaw(k.subject, tampered, (s, _b, h) => rightKey.sign(s, JSON.stringify({ ...tampered, ...k.signedAs }), h));
      await publishRaw(k.subject, k.make(`${k.kind}-stale`), (s, b, h) => longAgo.sign(s, b, h));
      // The genuine one, signed by a bus holding the key.
      await service.publish(k.subject, k.make(`${k.kind}-signed`));
    }

    // Settled when each forgery was dead-lettered or (a failure) handled, and each signed event handled.
    await eventually(async () => {
      for (const k of kinds) letters.set(k.kind, await deadLetters(k.subject, k.id));
      return kinds.every(
        (k) => forgeries.every((f) => letters.get(k.kind)?.has(`${k.kind}-${f.name}`) || k.reached(`${k.kind}-${f.name}`) > 0) && k.reached(`${k.kind}-signed`) > 0,
      );
    }, 'every forged verdict, step and run event settled and every signed one handled');
  } finally {
    for (const consumer of started) await consumer.stop();
  }

  for (const k of kinds) {
    for (const f of forgeries) {
      const id = `${k.kind}-${f.name}`;
      const reason = letters.get(k.kind)?.get(id) ?? '(no dead letter)';
      const reached = k.reached(id);
      table.record({
        case: `${id} on ${k.subject}`,
        expected: `dead letter ${f.rejection}, ${k.fake} not called`,
        got: `${reason.split(':')[0]}, ${reached > 0 ? `${k.fake} CALLED ${reached}x` : `${k.fake} not called`}`,
        pass: reason.startsWith(`${f.rejection}:`) && reached === 0,
      });
    }
    const id = `${k.kind}-signed`;
    const letter = letters.get(k.kind)?.get(id);
    table.record({
      case: `${id} on ${k.subject} (signed with the cluster key)`,
      expected: `${k.fake} called once, no dead letter`,
      got: `${k.fake} called ${k.reached(id)}x, ${letter === undefined ? 'no dead letter' : `dead letter ${letter.split(':')[0]}`}`,
      pass: k.reached(id) === 1 && letter === undefined,
    });
  }
  const calls = runDeps.calls.map((c) => c.method).join(', ');
  table.record({
    case: 'run-event consumer\'s store, engine and task events',
    expected: 'asked only for the signed run\'s task',
    got: calls || 'never called',
    pass: calls === 'store.findTaskIdByRunId',
  });

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
