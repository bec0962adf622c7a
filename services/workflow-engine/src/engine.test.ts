/**
 * The engine over the in-memory store and a recording publisher: a run belongs to the trace of
 * the StartRun call, and every effect of the run is published in that trace, whichever call
 * committed the step (a result consumed under another trace, the timeout sweep, resume).
 */
import { trace } from '@opentelemetry/api';
import type { ActivityRequest, ActivityRequestedEvent, RunEvent, WorkQueue } from '@maestro/contracts';
import { createSilentLogger, initTelemetry, ManualClock, withSpan, type Telemetry } from '@maestro/runtime';
import { createWorkflowEngine, type WorkflowEngine } from './engine.js';
import type { RunEventsPublisher } from './run-events-publisher.js';
import { InMemoryRunStore } from './store/in-memory-run-store.js';

interface Published {
  what: string;
  traceId: string | undefined;
}

/** Records each publish with the trace it happened in (what the NATS headers would carry). */
class RecordingPublisher implements RunEventsPublisher {
  readonly published: Published[] = [];
  readonly requests: ActivityRequest[] = [];

  private record(what: string): void {
    this.published.push({ what, traceId: trace.getActiveSpan()?.spanContext().traceId });
  }

  async publishActivityRequest(_queue: WorkQueue, request: ActivityRequest): Promise<void> {
    this.requests.push(request);
    this.record(`request ${request.workId}`);
  }

  async publishEvent(subject: string, _payload: RunEvent | ActivityRequestedEvent, msgId: string): Promise<void> {
    this.record(`${subject} ${msgId}`);
  }
}

let telemetry: Telemetry;
let clock: ManualClock;
let store: InMemoryRunStore;
let publisher: RecordingPublisher;
let engine: WorkflowEngine;

beforeAll(() => {
  telemetry = initTelemetry({ serviceName: 'engine-test' });
});
afterAll(async () => {
  await telemetry.shutdown();
});

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2030, 0, 1));
  store = new InMemoryRunStore({ clock });
  publisher = new RecordingPublisher();
  engine = createWorkflowEngine({ store, publisher, logger: createSilentLogger(), clock });
  await engine.ensureDefaultDefinitions();
});
afterEach(async () => {
  await engine.stop();
});

async function startInTrace(): Promise<{ runId: string; traceId: string }> {
  return withSpan('caller StartRun', {}, async (span) => {
    const run = await engine.startRun({ definitionName: 'coding', input: { taskId: 't1' } });
    return { runId: run.id, traceId: span.spanContext().traceId };
  });
}

describe('a run and its trace', () => {
  it('stores the StartRun caller\'s traceparent with the run', async () => {
    const { runId, traceId } = await startInTrace();
    expect((await store.getRun(runId))?.traceParent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
    // Without a trace there is nothing to store.
    const untraced = await engine.startRun({ definitionName: 'coding', input: {} });
    expect((await store.getRun(untraced.id))?.traceParent).toBeNull();
  });

  it('publishes every effect of the run in that trace, whoever committed the step', async () => {
    const { runId, traceId } = await startInTrace();
    const intake = publisher.requests.find((r) => r.runId === runId)!;
    // The result arrives under another trace (the orchestrator's consumer span).
    await withSpan('result consumer', {}, () =>
      engine.applyActivityResult({ ...intake, ok: true, output: {}, finishedAt: new Date(clock.now()).toISOString() }),
    );
    // The preflight attempt times out: the sweep runs in no trace at all.
    clock.advance(16 * 60_000);
    expect(await engine.sweepTimeouts()).toBe(1);

    const ofRun = publisher.published.filter((p) => p.what.includes(runId));
    expect(ofRun.map((p) => p.what.replace(runId, 'R'))).toEqual([
      'maestro.events.run.started R:started',
      'request R:intake:1',
      'maestro.events.activity.requested R:intake:1:requested',
      'maestro.events.run.transitioned R:1',
      'request R:preflight:1',
      'maestro.events.activity.requested R:preflight:1:requested',
      'maestro.events.run.transitioned R:2',
      'maestro.events.run.finished R:finished',
    ]);
    expect(new Set(ofRun.map((p) => p.traceId))).toEqual(new Set([traceId]));
  });

  it('re-publishes in the run\'s trace on resume', async () => {
    const { runId, traceId } = await startInTrace();
    publisher.published.length = 0;
    await engine.resume();
    expect(publisher.published.filter((p) => p.what.includes(runId))).toEqual([
      { what: `request ${runId}:intake:1`, traceId },
      { what: `maestro.events.activity.requested ${runId}:intake:1:requested`, traceId },
    ]);
  });
});

describe('the engine over the in-memory store', () => {
  it('cancels with a reason and leaves an ended run as it is', async () => {
    const run = await engine.startRun({ definitionName: 'coding', input: {} });
    const cancelled = await engine.cancelRun(run.id, 'not needed');
    expect(cancelled).toMatchObject({ status: 'cancelled', history: [{ seq: 1, eventType: 'CANCEL', event: { type: 'CANCEL', reason: 'not needed' } }] });
    expect(await engine.cancelRun(run.id, 'again')).toEqual(cancelled);
    await expect(engine.cancelRun('00000000-0000-4000-8000-000000000000', '')).rejects.toMatchObject({ reason: 'not_found' });
  });

  it('pages runs and history, and diffs definition versions', async () => {
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      await engine.startRun({ definitionName: 'coding', input: { i } });
    }
    const first = await engine.listRuns({ limit: 2 });
    expect(first.runs.map((r) => r.context.input)).toEqual([{ i: 2 }, { i: 1 }]);
    const second = await engine.listRuns({ limit: 2, afterId: first.nextAfterId! });
    expect(second).toEqual({ runs: [expect.objectContaining({ context: expect.objectContaining({ input: { i: 0 } }) })] });

    const run = first.runs[0]!;
    await engine.cancelRun(run.id, '');
    expect(await engine.getRunHistory(run.id, { afterSeq: 0, limit: 1 })).toMatchObject({ nextAfterSeq: 0, transitions: [{ seq: 1 }] });

    const coding = await engine.getDefinition('coding');
    await engine.putDefinition('coding', { ...coding.definition, description: 'changed' });
    expect(await engine.diffDefinitions('coding', 1, 2)).toMatchObject({ changes: [{ path: '/description', op: 'changed', after: 'changed' }] });
    await expect(engine.diffDefinitions('coding', 1, 3)).rejects.toMatchObject({ reason: 'not_found', message: 'definition coding version 3 does not exist' });
    expect((await engine.listDefinitions('coding')).map((d) => d.version)).toEqual([2, 1]);
  });
});
