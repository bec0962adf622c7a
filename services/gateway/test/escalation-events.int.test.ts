/**
 * Escalations in a run's event stream, over the real NATS server: Orion's own publisher
 * (`BusEscalationEvents`, signed with the cluster key) puts `escalation.raised` and
 * `escalation.decided` for run R on the bus, the gateway's real subscription (`subscribeToEvents`
 * on a bus holding that key, as `startGateway` wires it) feeds the hub, and
 * `GET /v1/runs/R/events` opened with a key of R's tenant shows both with their payloads. A
 * `decided` forged by a client without the key (unsigned) never shows. Another tenant's key gets
 * a 404 for R's stream, and its own run's stream carries nothing of R.
 *
 * Escalation events carry no tenant: they reach a viewer only through the stream of their run,
 * which the gateway opens only after reading the run for the caller's tenant. They are not
 * lifecycle events, so the global `/v1/events` stream does not carry them (there is no task
 * event stream).
 */
import { randomUUID } from 'node:crypto';
import { connectBus, type Bus, type LiveSubscription } from '@maestro/bus';
import { Streams, Subjects, type EscalationDecidedEvent, type EscalationRaisedEvent, type Run } from '@maestro/contracts';
import { createSilentLogger, Registry } from '@maestro/runtime';
// Orion's real publisher of these events (a test may borrow another service's source).
import { BusEscalationEvents } from '../../orchestrator/src/transport/nats/escalation-events.publisher.js';
import { subscribeToEvents } from '../src/transport/nats/event-subscriber.js';
import { TEST_TENANT, bearer } from './auth.js';
import { createFakeUpstreams, depsOf, type FakeUpstreams } from './fakes/index.js';
import { serve, type ServedApp } from './serve.js';

const natsUrl = 'nats://127.0.0.1:4222';
const logger = createSilentLogger();
/** The cluster's signing key: the gateway's bus and Orion's hold it, the attacker's does not. */
const clusterKey = `${randomUUID()}${randomUUID()}`;
const OTHER_TENANT = 'globex';
/** How long a stream read may wait for what the test expects. */
const READ_TIMEOUT_MS = 10_000;

jest.setTimeout(30_000);

interface Frame {
  event: string;
  data: Record<string, unknown>;
}

/** An open `text/event-stream` response, read frame by frame (heartbeat comments skipped). */
class SseReader {
  readonly frames: Frame[] = [];
  private text = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Reads until `done` holds for the frames so far; fails after {@link READ_TIMEOUT_MS} or when the stream ends first. */
  async until(what: string, done: (frames: readonly Frame[]) => boolean): Promise<readonly Frame[]> {
    const deadline = Date.now() + READ_TIMEOUT_MS;
    while (!done(this.frames)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; frames so far: ${JSON.stringify(this.frames)}`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), left);
      });
      const chunk = await Promise.race([this.reader.read(), timeout]).finally(() => clearTimeout(timer));
      if (chunk === 'timeout') continue;
      if (chunk.done) throw new Error(`the stream ended before ${what}; frames: ${JSON.stringify(this.frames)}`);
      this.text += this.decoder.decode(chunk.value, { stream: true });
      this.parse();
    }
    return this.frames;
  }

  private parse(): void {
    for (let end = this.text.indexOf('\n\n'); end >= 0; end = this.text.indexOf('\n\n')) {
      const block = this.text.slice(0, end);
      this.text = this.text.slice(end + 2);
      let event: string | undefined;
      let data: Record<string, unknown> | undefined;
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice('event: '.length);
        else if (line.startsWith('data: ')) data = JSON.parse(line.slice('data: '.length)) as Record<string, unknown>;
      }
      if (event !== undefined && data !== undefined) this.frames.push({ event, data });
    }
  }
}

let fakes: FakeUpstreams;
let app: ServedApp;
let gatewayBus: Bus;
let orionBus: Bus;
let attackerBus: Bus;
let subscription: LiveSubscription | undefined;
const streams = new AbortController();

beforeAll(async () => {
  const namespace = `gwesc${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const common = { url: natsUrl, logger, namespace, streamLimits: { storage: 'memory' as const } };
  gatewayBus = await connectBus({ ...common, name: 'gateway', metrics: new Registry(), signing: { key: clusterKey } });
  orionBus = await connectBus({ ...common, name: 'orchestrator', metrics: new Registry(), signing: { key: clusterKey } });
  // Knows the subjects and the namespace, not the key.
  attackerBus = await connectBus({ ...common, name: 'attacker', metrics: new Registry() });
  // Orion publishes escalation events to the MAESTRO_EVENTS stream (JetStream), as in production.
  await orionBus.ensureStreams();

  fakes = createFakeUpstreams();
  subscription = await subscribeToEvents(gatewayBus, fakes.hub);
  app = await serve(depsOf(fakes));
});

afterAll(async () => {
  streams.abort();
  await app?.close();
  subscription?.unsubscribe();
  if (orionBus) {
    for (const spec of Object.values(Streams)) await orionBus.jsm.streams.delete(orionBus.namespace.stream(spec.name)).catch(() => undefined);
  }
  for (const bus of [gatewayBus, orionBus, attackerBus]) await bus?.close();
});

/** A coding run of `tenant` for `taskId`, running in its `code` state. */
async function startRun(tenant: string, taskId: string): Promise<Run> {
  await fakes.workflow.putDefinition({
    tenant: '',
    name: 'coding',
    definition: { id: 'coding', initial: 'code', states: { code: { on: { DONE: 'done' } }, done: { type: 'final' } } },
  });
  return fakes.workflow.startRun('coding', { taskId }, 0, tenant);
}

/** Opens `GET /v1/runs/:id/events` with `key` and reads until the run's history is shown (its listener is live by then). */
async function openRunStream(runId: string, key: string): Promise<SseReader> {
  const response = await globalThis.fetch(`${app.url}/v1/runs/${runId}/events`, {
    headers: { ...bearer(key), accept: 'text/event-stream' },
    signal: streams.signal,
  });
  expect(response.status).toBe(200);
  const reader = new SseReader(response.body!.getReader());
  await reader.until(`the history of run ${runId}`, (frames) => frames.some((f) => f.event === 'run.transitioned' && f.data['runId'] === runId));
  return reader;
}

function raisedOf(run: Run, taskId: string, escalationId: string): EscalationRaisedEvent {
  return {
    escalationId, taskId, runId: run.id, subtaskId: 's1', attempt: 1, executorId: 'exec-a', reason: 'tests_failed',
    summary: 'npm test: failed (exit 1) twice with the same output; divide(1, 0) does not throw', at: '2030-01-02T03:04:06.000Z',
  };
}

describe('escalation events in a run\'s event stream', () => {
  it('shows the signed raised and decided events of the run to its tenant, never a forged one, and nothing of it to another tenant', async () => {
    const runOfTenant = await startRun(TEST_TENANT, 'task-r');
    const runOfOther = await startRun(OTHER_TENANT, 'task-g');
    const tenantKey = await fakes.auth.keyFor(['read']);
    const otherKey = await fakes.auth.keyFor(['read'], { tenant: OTHER_TENANT });

    // Another tenant cannot open R's stream at all: R is not found for it.
    const refused = await globalThis.fetch(`${app.url}/v1/runs/${runOfTenant.id}/events`, { headers: { ...bearer(otherKey), accept: 'text/event-stream' } });
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await refused.json()).toMatchObject({ error: { code: 'RUN_NOT_FOUND' } });

    const ofTenant = await openRunStream(runOfTenant.id, tenantKey);
    const ofOther = await openRunStream(runOfOther.id, otherKey);

    const orion = new BusEscalationEvents(orionBus, logger);
    const escalationId = 'task-r:s1:1';
    const raised = raisedOf(runOfTenant, 'task-r', escalationId);
    const decided: EscalationDecidedEvent = {
      escalationId, taskId: 'task-r', runId: runOfTenant.id, subtaskId: 's1', attempt: 1, decision: 'takeover',
      reason: 'the tactical agent keeps editing the test; the strategic model does the subtask itself', at: '2030-01-02T03:04:09.000Z',
    };
    // Forged by a client without the key, published (and acked by the stream) before the genuine ones,
    // so it would reach the gateway's subscription first if it were let through.
    const forged: EscalationDecidedEvent = {
      escalationId, taskId: 'task-r', runId: runOfTenant.id, subtaskId: 's1', attempt: 1, decision: 'abandon',
      reason: 'forged: abandon the subtask', at: '2030-01-02T03:04:07.000Z',
    };
    await attackerBus.publish(Subjects.escalationDecided, forged, { msgId: `${escalationId}:forged` });
    await orion.raised(raised);
    await orion.decided(decided);

    const escalationFrames = (frames: readonly Frame[]) => frames.filter((f) => f.event.startsWith('escalation.'));
    await ofTenant.until('the decided event of R', (frames) => escalationFrames(frames).some((f) => f.event === 'escalation.decided'));
    expect(escalationFrames(ofTenant.frames)).toEqual([
      { event: 'escalation.raised', data: raised },
      { event: 'escalation.decided', data: decided },
    ]);
    // What a viewer reads off them: the failure's summary and the decision.
    expect(escalationFrames(ofTenant.frames)[0]?.data['summary']).toBe(raised.summary);
    expect(escalationFrames(ofTenant.frames)[1]?.data['decision']).toBe('takeover');
    expect(JSON.stringify(ofTenant.frames)).not.toContain('forged');

    // The other tenant's stream of its own run: its own escalation arrives (after R's, on the same
    // connection), and nothing of R came before it.
    const ownRaised = raisedOf(runOfOther, 'task-g', 'task-g:s1:1');
    await orion.raised(ownRaised);
    await ofOther.until('the raised event of its own run', (frames) => frames.some((f) => f.event === 'escalation.raised'));
    expect(escalationFrames(ofOther.frames)).toEqual([{ event: 'escalation.raised', data: ownRaised }]);
    expect(ofOther.frames.filter((f) => f.data['runId'] === runOfTenant.id || f.data['taskId'] === 'task-r')).toEqual([]);
    // And R's stream never shows the other run's escalation (read up to a later event of R).
    const later = { ...raised, escalationId: 'task-r:s1:2', attempt: 2, summary: 'second attempt failed too' };
    await orion.raised(later);
    await ofTenant.until('the second raised event of R', (frames) => frames.some((f) => f.data['escalationId'] === 'task-r:s1:2'));
    expect(ofTenant.frames.filter((f) => f.data['runId'] === runOfOther.id || f.data['taskId'] === 'task-g')).toEqual([]);
  });
});
