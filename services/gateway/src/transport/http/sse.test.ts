import { EventEmitter } from 'node:events';
import type { AgentStep, ListAgentStepsRequest, Run } from '@maestro/contracts';
import { createSilentLogger, ManualClock, notFound, OperationalError } from '@maestro/runtime';
import type { FastifyReply } from 'fastify';
import type { OrchestratorApi, WorkflowApi } from '../../ports.js';
import { RunEventHub } from '../nats/run-event-hub.js';
import type { Principal } from '../../auth/principal.js';
import { OpenStreams } from './open-streams.js';
import { eventNameOf, streamRunEvents } from './sse.js';
import { CLIENT_TOO_SLOW_COMMENT, SseWriter } from './sse-writer.js';

/** Just enough of a ServerResponse to watch what the stream writes. */
class FakeResponse extends EventEmitter {
  destroyed = false;
  status = 0;
  headers: Record<string, string> = {};
  written = '';
  ended = false;
  /** A client that reads nothing: every write stays buffered. */
  stalled = false;
  writableLength = 0;
  writeHead(status: number, headers: Record<string, string>): void {
    this.status = status;
    this.headers = headers;
  }
  flushHeaders(): void {}
  write(chunk: string): boolean {
    if (this.ended) throw new Error('write after end');
    this.written += chunk;
    if (this.stalled) this.writableLength += Buffer.byteLength(chunk);
    return !this.stalled;
  }
  end(): void {
    this.ended = true;
    this.emit('close');
  }
}

/** The caller of the streams below: an API key that stays valid unless a test revokes it. */
const keyPrincipal: Principal = { tenant: 'default', scopes: ['read'], subject: 'key:k1', via: 'api-key', keyId: 'k1' };
let keyValid = true;
beforeEach(() => {
  keyValid = true;
});
const access = { principal: keyPrincipal, credentials: { stillValid: async () => keyValid, checkFailed: () => undefined, onRevoked: () => () => undefined } };

/** Lets the promise callbacks a heartbeat started (the run re-read) run to their end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

function fakeReply(): { reply: FastifyReply; response: FakeResponse; hijacked: () => boolean } {
  const response = new FakeResponse();
  let hijacked = false;
  const reply = {
    raw: response,
    hijack: () => {
      hijacked = true;
    },
  } as unknown as FastifyReply;
  return { reply, response, hijacked: () => hijacked };
}

interface Frame {
  id?: string;
  event?: string;
  data?: Record<string, unknown>;
  comment?: string;
}

function frames(text: string): Frame[] {
  return text
    .split('\n\n')
    .filter((block) => block.length > 0)
    .map((block) => {
      const frame: Frame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(': ')) frame.comment = line.slice(2);
        else if (line.startsWith('id: ')) frame.id = line.slice(4);
        else if (line.startsWith('event: ')) frame.event = line.slice(7);
        else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
      }
      return frame;
    });
}

const at = new Date('2030-01-01T00:00:00Z');

function run(status: string, seqs: number[]): Run {
  return {
    id: 'run-1',
    tenant: 'default',
    definitionName: 'coding',
    definitionVersion: 1,
    status,
    state: status === 'running' ? 'plan' : 'done',
    attempt: 1,
    context: {},
    history: seqs.map((seq) => ({ seq, fromState: `s${seq - 1}`, toState: `s${seq}`, eventType: 'activity.done', event: {}, at, note: false })),
    createdAt: at,
    updatedAt: at,
  };
}

/** What the stream reads from the orchestrator. */
type StreamOrchestrator = Pick<OrchestratorApi, 'listAgentSteps'>;

/** An orchestrator that has recorded no steps. */
const noSteps: StreamOrchestrator = { listAgentSteps: async () => ({ steps: [], nextAfter: '' }) };

/** What most streams here share: run-1 of tenant default, no recorded steps, a 15 s heartbeat. */
const runStream = { tenant: 'default', runId: 'run-1', orchestrator: noSteps, heartbeatMs: 15_000, ...access, logger: createSilentLogger() };

/** A recorded step of run-1 and the live event it was recorded from. */
function recordedStep(subtaskId: string, executorId: string, step: number, seconds: number): { recorded: AgentStep; live: { subject: string; payload: Record<string, unknown> } } {
  const when = new Date(at.getTime() + seconds * 1000);
  const recorded: AgentStep = {
    taskId: 't1', runId: 'run-1', subtaskId, executorId, step, kind: 'tool', tool: 'fs.read', summary: `${subtaskId}#${step}`, ok: true, at: when,
    attempt: 1, recalled: [], condensation: undefined, modelCall: undefined, durationMs: 12, arguments: '{"path":"a.ts"}', observation: 'export {}',
  };
  // The executor's spelling of the time may differ from the orchestrator's; the instant is the same.
  const { recalled: _recalled, condensation: _condensation, modelCall: _modelCall, ...fields } = recorded;
  const live = { ...fields, at: when.toISOString().replace('.000Z', 'Z') };
  return { recorded, live: { subject: 'maestro.events.work.step', payload: live } };
}

/** An orchestrator holding `steps`, served in pages of `pageSize`, recording each request. */
function stepsFrom(steps: AgentStep[], pageSize = 1000, requests: ListAgentStepsRequest[] = []): StreamOrchestrator {
  return {
    listAgentSteps: async (request) => {
      requests.push(request);
      const start = request.after === '' ? 0 : Number(request.after);
      const end = Math.min(start + Math.min(pageSize, request.limit), steps.length);
      return { steps: steps.slice(start, end), nextAfter: end < steps.length ? String(end) : '' };
    },
  };
}

const transitioned = (seq: number, runId = 'run-1') => ({
  subject: 'maestro.events.run.transitioned',
  payload: { runId, seq, state: `s${seq}`, status: 'running', at: at.toISOString() },
});

describe('eventNameOf', () => {
  it('keeps the last two tokens of the subject', () => {
    expect(eventNameOf('maestro.events.run.transitioned')).toBe('run.transitioned');
    expect(eventNameOf('maestro.events.work.step')).toBe('work.step');
  });
});

describe('streamRunEvents', () => {
  it('sends history, then events that arrived while reading it (without duplicates), then live events until run.finished', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const workflow: Pick<WorkflowApi, 'getRun'> = {
      getRun: async () => {
        // Both happen after the stream subscribed and before the history is returned:
        // seq 2 is also in the history, seq 3 is not.
        hub.dispatch(transitioned(2));
        hub.dispatch(transitioned(3));
        return run('running', [1, 2]);
      },
    };
    const { reply, response } = fakeReply();
    const streams = new OpenStreams();
    await streamRunEvents(reply, { tenant: 'default', runId: 'run-1', workflow, orchestrator: noSteps, events: hub, streams, heartbeatMs: 15_000, ...access, logger: createSilentLogger() });

    hub.dispatch(transitioned(3)); // a second copy
    hub.dispatch(transitioned(9, 'run-2')); // somebody else's run
    hub.dispatch({ subject: 'maestro.events.work.step', payload: { runId: 'run-1', step: 0, summary: 'read file' } });
    expect(response.ended).toBe(false);
    hub.dispatch({ subject: 'maestro.events.run.finished', payload: { runId: 'run-1', status: 'done', state: 'done', seq: 4 } });
    hub.dispatch({ subject: 'maestro.events.work.step', payload: { runId: 'run-1', step: 1, summary: 'too late' } });

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(response.ended).toBe(true);
    const sent = frames(response.written);
    expect(sent.map((f) => [f.id, f.event, f.data?.seq ?? f.data?.step])).toEqual([
      ['1', 'run.transitioned', 1],
      ['2', 'run.transitioned', 2],
      ['3', 'run.transitioned', 3],
      ['4', 'work.step', 0],
      ['5', 'run.finished', 4],
    ]);
    expect(sent[0]?.data).toMatchObject({ runId: 'run-1', fromState: 's0', state: 's1', replay: true });
    expect(hub.watchedRuns).toBe(0);
    expect(streams.size).toBe(0);
  });

  it('ends right after the history when the run had already ended, saying how', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const { reply, response } = fakeReply();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: { getRun: async () => run('failed', [1]) },
      events: hub,
      streams: new OpenStreams(),
    });
    expect(response.ended).toBe(true);
    expect(frames(response.written).map((f) => [f.event, f.data?.status])).toEqual([
      ['run.transitioned', undefined],
      ['run.finished', 'failed'],
    ]);
    expect(hub.watchedRuns).toBe(0);
  });

  it('rejects before writing anything when the run cannot be read, and stops listening', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const { reply, response, hijacked } = fakeReply();
    const attempt = streamRunEvents(reply, {
      tenant: 'default',
      runId: 'nope',
      workflow: {
        getRun: async () => {
          throw notFound('run', 'nope');
        },
      },
      orchestrator: noSteps,
      events: hub,
      streams: new OpenStreams(),
      heartbeatMs: 15_000,
      ...access,
      logger: createSilentLogger(),
    });
    await expect(attempt).rejects.toMatchObject({ reason: 'not_found' });
    expect(hijacked()).toBe(false);
    expect(response.written).toBe('');
    expect(hub.watchedRuns).toBe(0);
  });

  it('sends a heartbeat comment every interval while the run is quiet, and stops when the client leaves', async () => {
    const clock = new ManualClock(0);
    const hub = new RunEventHub(createSilentLogger());
    const { reply, response } = fakeReply();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: { getRun: async () => run('running', []) },
      events: hub,
      streams: new OpenStreams(),
      clock,
    });
    clock.advance(31_000);
    expect(frames(response.written).filter((f) => f.comment === 'heartbeat')).toHaveLength(2);

    response.emit('close');
    expect(hub.watchedRuns).toBe(0);
    clock.advance(60_000);
    expect(frames(response.written).filter((f) => f.comment === 'heartbeat')).toHaveLength(2);
  });

  it('ends the stream from a heartbeat re-read when the run finished but its live run.finished never came', async () => {
    const clock = new ManualClock(0);
    const hub = new RunEventHub(createSilentLogger());
    const { reply, response } = fakeReply();
    let reads = 0;
    const finishedRun: Run = {
      ...run('failed', [1, 2, 3]),
      state: 'failed',
      context: { input: { taskId: 't1' }, error: { code: 'ACTIVITY_TIMEOUT', message: 'plan took too long', state: 'plan' } },
    };
    const streams = new OpenStreams();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: { getRun: async () => (++reads === 1 ? run('running', [1]) : finishedRun) },
      events: hub,
      streams,
      clock,
    });
    hub.dispatch(transitioned(2)); // seq 2 arrives live; seq 3 and run.finished are lost
    expect(response.ended).toBe(false);

    clock.advance(15_000);
    await settle();
    expect(response.ended).toBe(true);
    const sent = frames(response.written);
    expect(sent.map((f) => f.comment ?? [f.event, f.data?.seq, f.data?.replay])).toEqual([
      ['run.transitioned', 1, true],
      ['run.transitioned', 2, undefined],
      'heartbeat',
      ['run.transitioned', 3, true],
      ['run.finished', 3, true],
    ]);
    expect(sent.at(-1)?.data).toEqual({
      runId: 'run-1',
      definitionName: 'coding',
      status: 'failed',
      state: 'failed',
      seq: 3,
      input: { taskId: 't1' },
      error: { code: 'ACTIVITY_TIMEOUT', message: 'plan took too long' },
      at: at.toISOString(),
      replay: true,
    });
    expect(hub.watchedRuns).toBe(0);
    expect(streams.size).toBe(0);
  });

  it('keeps the stream open when a heartbeat re-read fails, and ends it on a later one', async () => {
    const clock = new ManualClock(0);
    const hub = new RunEventHub(createSilentLogger());
    const { reply, response } = fakeReply();
    let reads = 0;
    await streamRunEvents(reply, {
      ...runStream,
      workflow: {
        getRun: async () => {
          reads++;
          if (reads === 1) return run('running', []);
          if (reads === 2) throw new Error('workflow-engine is unavailable');
          return run('done', [1]);
        },
      },
      events: hub,
      streams: new OpenStreams(),
      clock,
    });
    clock.advance(15_000);
    await settle();
    expect(response.ended).toBe(false);
    clock.advance(15_000);
    await settle();
    expect(response.ended).toBe(true);
    expect(frames(response.written).map((f) => f.comment ?? f.event)).toEqual(['heartbeat', 'heartbeat', 'run.transitioned', 'run.finished']);
  });

  it('stops listening when the client left while the history was being read', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const { reply, response } = fakeReply();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: {
        getRun: async () => {
          response.destroyed = true;
          response.emit('close');
          return run('running', [1]);
        },
      },
      events: hub,
      streams: new OpenStreams(),
    });
    expect(hub.watchedRuns).toBe(0);
    expect(response.written).toBe('');
  });

  it('ends every open stream when the gateway shuts down', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const streams = new OpenStreams();
    const { reply, response } = fakeReply();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: { getRun: async () => run('running', [1]) },
      events: hub,
      streams,
    });
    expect(streams.size).toBe(1);
    streams.closeAll();
    expect(response.ended).toBe(true);
    expect(hub.watchedRuns).toBe(0);
  });

  it('ends with an unauthenticated event at the first heartbeat after its key is revoked, and stops listening', async () => {
    const clock = new ManualClock(0);
    const hub = new RunEventHub(createSilentLogger());
    const streams = new OpenStreams();
    const { reply, response } = fakeReply();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: { getRun: async () => run('running', [1]) },
      events: hub,
      streams,
      clock,
    });
    clock.advance(15_000);
    await settle();
    expect(response.ended).toBe(false);

    keyValid = false;
    hub.dispatch(transitioned(2));
    clock.advance(15_000);
    await settle();
    expect(response.ended).toBe(true);
    expect(frames(response.written).map((f) => f.comment ?? f.event)).toEqual(['run.transitioned', 'heartbeat', 'run.transitioned', 'heartbeat', 'unauthenticated']);
    expect(frames(response.written).at(-1)?.data).toEqual({ code: 'UNAUTHENTICATED', message: 'credentials revoked' });
    expect(hub.watchedRuns).toBe(0);
    expect(streams.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('replays the recorded steps after the history, all pages, and drops live copies of them', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const a1 = recordedStep('s1', 'exec-a', 1, 1);
    const a2 = recordedStep('s1', 'exec-a', 2, 2);
    const b1 = recordedStep('s2', 'exec-b', 1, 3);
    // Step 1 of s1 again on exec-a, later: the subtask was handed back and ran a second time.
    const again = recordedStep('s1', 'exec-a', 1, 9);
    const requests: ListAgentStepsRequest[] = [];
    const { reply, response } = fakeReply();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: {
        getRun: async () => {
          hub.dispatch(b1.live); // recorded and live at once
          return run('running', [1]);
        },
      },
      orchestrator: stepsFrom([a1.recorded, a2.recorded, b1.recorded], 2, requests),
      events: hub,
      streams: new OpenStreams(),
    });
    hub.dispatch(a2.live); // a late copy of a recorded step
    hub.dispatch(again.live);
    hub.dispatch(again.live); // a second copy of a live one
    hub.dispatch({ subject: 'maestro.events.run.finished', payload: { runId: 'run-1', status: 'done', state: 'done', seq: 2 } });

    const sent = frames(response.written);
    expect(sent.map((f) => [f.event, f.data?.subtaskId, f.data?.step, f.data?.replay])).toEqual([
      ['run.transitioned', undefined, undefined, true],
      ['work.step', 's1', 1, true],
      ['work.step', 's1', 2, true],
      ['work.step', 's2', 1, true],
      ['work.step', 's1', 1, undefined],
      ['run.finished', undefined, undefined, undefined],
    ]);
    expect(sent[1]?.data).toEqual({
      taskId: 't1', runId: 'run-1', subtaskId: 's1', executorId: 'exec-a', step: 1, kind: 'tool', tool: 'fs.read', summary: 's1#1', ok: true,
      at: new Date(at.getTime() + 1000).toISOString(), attempt: 1, modelCall: null, durationMs: 12, arguments: '{"path":"a.ts"}', observation: 'export {}', replay: true,
    });
    expect(requests.map((r) => [r.runId, r.taskId, r.after])).toEqual([
      ['run-1', '', ''],
      ['run-1', '', '2'],
    ]);
  });

  it('streams without the recorded steps when the orchestrator is unavailable', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const { reply, response } = fakeReply();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: { getRun: async () => run('running', [1]) },
      orchestrator: {
            listAgentSteps: async () => {
          throw new OperationalError('UNAVAILABLE', 'orchestrator is unavailable (connection refused)');
        },
      },
      events: hub,
      streams: new OpenStreams(),
    });
    hub.dispatch(recordedStep('s1', 'exec-a', 1, 1).live);
    hub.dispatch({ subject: 'maestro.events.run.finished', payload: { runId: 'run-1', status: 'done', state: 'done', seq: 2 } });
    expect(frames(response.written).map((f) => f.comment ?? f.event)).toEqual([
      'run.transitioned',
      'recorded steps unavailable',
      'work.step',
      'run.finished',
    ]);
  });

  it('sends the recorded steps it has not shown when a heartbeat re-read finds the run finished', async () => {
    const clock = new ManualClock(0);
    const hub = new RunEventHub(createSilentLogger());
    const first = recordedStep('s1', 'exec-a', 1, 1);
    const second = recordedStep('s1', 'exec-a', 2, 2);
    const lost = recordedStep('s1', 'exec-a', 3, 3);
    const recorded = [first.recorded];
    let reads = 0;
    const { reply, response } = fakeReply();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: { getRun: async () => (++reads === 1 ? run('running', [1]) : run('done', [1])) },
      orchestrator: { listAgentSteps: async () => ({ steps: [...recorded], nextAfter: '' }) },
      events: hub,
      streams: new OpenStreams(),
      clock,
    });
    hub.dispatch(second.live);
    // Recorded meanwhile; the live events of the third step and of run.finished are lost.
    recorded.push(second.recorded, lost.recorded);
    clock.advance(15_000);
    await settle();

    expect(response.ended).toBe(true);
    expect(frames(response.written).map((f) => f.comment ?? [f.event, f.data?.step, f.data?.replay])).toEqual([
      ['run.transitioned', undefined, true],
      ['work.step', 1, true],
      ['work.step', 2, undefined],
      'heartbeat',
      ['work.step', 3, true],
      ['run.finished', undefined, true],
    ]);
  });

  it('replays thousands of recorded steps as fast as the client reads them, never past the unsent bound', async () => {
    const steps = Array.from({ length: 3000 }, (_, i) => recordedStep('s1', 'exec-a', i + 1, i + 1).recorded);
    const { reply, response } = fakeReply();
    // The client reads only when the test says so: every write stays unsent until then.
    response.stalled = true;
    let done = false;
    const streaming = streamRunEvents(reply, {
      ...runStream,
      workflow: { getRun: async () => run('done', [1]) },
      orchestrator: stepsFrom(steps),
      events: new RunEventHub(createSilentLogger()),
      streams: new OpenStreams(),
    }).then(() => {
      done = true;
    });
    let reads = 0;
    let mostUnsent = 0;
    while (!done && reads < 1000) {
      await settle();
      mostUnsent = Math.max(mostUnsent, response.writableLength);
      response.writableLength = 0;
      response.emit('drain');
      reads++;
    }
    await streaming;
    const sent = frames(response.written);
    expect(sent.filter((f) => f.event === 'work.step')).toHaveLength(3000);
    expect(sent[sent.length - 1]?.event).toBe('run.finished');
    expect(sent.some((f) => f.comment === CLIENT_TOO_SLOW_COMMENT)).toBe(false);
    // It waited for the client more than once, and never left more than the bound unsent.
    expect(reads).toBeGreaterThan(1);
    expect(mostUnsent).toBeLessThan(1024 * 1024);
  });

  it('ends a replay whose client reads nothing for a heartbeat interval as too slow', async () => {
    const clock = new ManualClock(0);
    const steps = Array.from({ length: 3000 }, (_, i) => recordedStep('s1', 'exec-a', i + 1, i + 1).recorded);
    const { reply, response } = fakeReply();
    response.stalled = true;
    const hub = new RunEventHub(createSilentLogger());
    const streams = new OpenStreams();
    const streaming = streamRunEvents(reply, { ...runStream, clock, workflow: { getRun: async () => run('running', [1]) }, orchestrator: stepsFrom(steps), events: hub, streams });
    await settle();
    expect(response.ended).toBe(false);
    clock.advance(15_000);
    await streaming;
    expect(response.ended).toBe(true);
    const sent = frames(response.written);
    expect(sent[sent.length - 1]).toEqual({ comment: CLIENT_TOO_SLOW_COMMENT });
    expect(sent.filter((f) => f.event === 'work.step').length).toBeLessThan(3000);
    expect(hub.watchedRuns).toBe(0);
    expect(streams.size).toBe(0);
  });

  it('ends the stream of a client that stops reading once too much waits unsent, and stops listening', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const workflow: Pick<WorkflowApi, 'getRun'> = { getRun: async () => run('running', [1]) };
    const { reply, response } = fakeReply();
    const streams = new OpenStreams();
    await streamRunEvents(reply, { tenant: 'default', runId: 'run-1', workflow, orchestrator: noSteps, events: hub, streams, heartbeatMs: 15_000, ...access, maxBufferedBytes: 2000, logger: createSilentLogger() });
    expect(response.ended).toBe(false);

    response.stalled = true;
    for (let seq = 2; seq < 100 && !response.ended; seq++) hub.dispatch(transitioned(seq));

    expect(response.ended).toBe(true);
    // Bounded: the limit, the event that crossed it and the goodbye.
    expect(response.writableLength).toBeLessThan(2000 + 500);
    const sent = frames(response.written);
    expect(sent[sent.length - 1]).toEqual({ comment: CLIENT_TOO_SLOW_COMMENT });
    expect(sent.filter((f) => f.event === 'run.transitioned').length).toBeLessThan(98);
    expect(hub.watchedRuns).toBe(0);
    expect(streams.size).toBe(0);
    // Later events write nothing (the fake throws on a write after end).
    hub.dispatch(transitioned(200));
  });
});

/** A running run of `taskId` (its context names the task, as the orchestrator starts coding runs). */
function runOfTask(runId: string, taskId: string): Run {
  return { ...run('running', [1]), id: runId, context: { input: { taskId } } };
}

const lockEvent = (verb: 'acquired' | 'released' | 'expired' | 'waiting', owner: string, concern = 'file:/repo/a.ts') => ({
  subject: `maestro.events.lock.${verb}`,
  payload: { leaseId: `lease-${owner}`, requestId: `req-${owner}`, owner, concerns: [concern], sharedConcerns: [], fencingToken: 1, at: at.toISOString() },
});

/** Task ids are UUIDs; two tasks' subtasks share names (`s1`, `s2`, …). */
const t1 = '3f6c2a9e-8d1b-4c57-9a0e-2b7d5f1c4e88';
const t2 = '9b1e4d77-0c3a-4f2e-8a61-5d9c0b2e7f13';

describe('streamRunEvents lock events', () => {
  it("sends each run's stream the lock events its task's owners name, not another task's subtask of the same name", async () => {
    const hub = new RunEventHub(createSilentLogger());
    const open = async (runId: string, taskId: string, whileReading?: () => void): Promise<FakeResponse> => {
      const { reply, response } = fakeReply();
      await streamRunEvents(reply, {
        tenant: 'default',
        runId,
        workflow: {
          getRun: async () => {
            whileReading?.();
            return runOfTask(runId, taskId);
          },
        },
        orchestrator: noSteps,
        events: hub,
        streams: new OpenStreams(),
        heartbeatMs: 15_000,
        ...access,
        clock: new ManualClock(0),
        logger: createSilentLogger(),
      });
      return response;
    };
    // An event that arrives while run-1 is being read is sent once the run is known.
    const one = await open('run-1', t1, () => hub.dispatch(lockEvent('acquired', `executor:e1:${t1}:s1`)));
    const two = await open('run-2', t2);

    hub.dispatch(lockEvent('waiting', `executor:e2:${t1}:s2`));
    hub.dispatch(lockEvent('acquired', `executor:e3:${t2}:s1`));
    hub.dispatch(lockEvent('acquired', 'cli:alice'));
    // An executor from before owners named their task: no run's.
    hub.dispatch(lockEvent('acquired', 'executor:e4:s1'));
    hub.dispatch(lockEvent('released', `executor:e1:${t1}:s1`));
    // A subtask a re-plan added is the task's like the rest.
    hub.dispatch(lockEvent('acquired', `executor:e1:${t1}:s3`));
    hub.dispatch(lockEvent('expired', `executor:e3:${t2}:s1`));
    await settle();

    const locksOf = (response: FakeResponse) => frames(response.written).filter((f) => f.event?.startsWith('lock.')).map((f) => [f.event, f.data?.owner]);
    expect(locksOf(one)).toEqual([
      ['lock.acquired', `executor:e1:${t1}:s1`],
      ['lock.waiting', `executor:e2:${t1}:s2`],
      ['lock.released', `executor:e1:${t1}:s1`],
      ['lock.acquired', `executor:e1:${t1}:s3`],
    ]);
    expect(locksOf(two)).toEqual([
      ['lock.acquired', `executor:e3:${t2}:s1`],
      ['lock.expired', `executor:e3:${t2}:s1`],
    ]);
  });

  it('stops taking lock events when the client disconnects', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const { reply, response } = fakeReply();
    const streams = new OpenStreams();
    await streamRunEvents(reply, {
      ...runStream,
      workflow: { getRun: async () => runOfTask('run-1', t1) },
      events: hub,
      streams,
    });
    await settle();
    expect(hub.lockListenerCount).toBe(1);
    hub.dispatch(lockEvent('acquired', `executor:e1:${t1}:s1`));

    response.emit('close');
    expect(hub.lockListenerCount).toBe(0);
    expect(hub.watchedRuns).toBe(0);
    expect(streams.size).toBe(0);
    expect(response.ended).toBe(true);
    // Nothing more is written (the fake throws on a write after end).
    hub.dispatch(lockEvent('released', `executor:e1:${t1}:s1`));
    expect(frames(response.written).filter((f) => f.event?.startsWith('lock.'))).toHaveLength(1);
  });

  it('takes no lock events for a run of no task, nor for a run that had already ended', async () => {
    const hub = new RunEventHub(createSilentLogger());
    const open = async (r: Run): Promise<FakeResponse> => {
      const { reply, response } = fakeReply();
      await streamRunEvents(reply, {
        tenant: 'default',
        runId: r.id,
        workflow: { getRun: async () => r },
        orchestrator: noSteps,
        events: hub,
        streams: new OpenStreams(),
        heartbeatMs: 15_000,
        ...access,
        clock: new ManualClock(0),
        logger: createSilentLogger(),
      });
      return response;
    };
    const noTaskRun = await open(run('running', [1]));
    await open({ ...runOfTask('run-9', t1), status: 'done', state: 'done' });
    expect(hub.lockListenerCount).toBe(0);
    hub.dispatch(lockEvent('acquired', `executor:e1:${t1}:s1`));
    await settle();
    expect(frames(noTaskRun.written).filter((f) => f.event?.startsWith('lock.'))).toHaveLength(0);
  });
});

describe('SseWriter', () => {
  it('keeps writing while the client reads, however much goes through', () => {
    const response = new FakeResponse();
    let tooSlow = 0;
    const writer = new SseWriter(response as never, { maxBufferedBytes: 100, onTooSlow: () => tooSlow++ });
    for (let i = 0; i < 50; i++) writer.event('x', { i, padding: 'p'.repeat(50) });
    expect(response.ended).toBe(false);
    expect(tooSlow).toBe(0);
    expect(frames(response.written)).toHaveLength(50);
  });

  it('ends with a final comment once the client falls behind by more than the bound', () => {
    const response = new FakeResponse();
    response.stalled = true;
    let tooSlow = 0;
    const writer = new SseWriter(response as never, { maxBufferedBytes: 100, onTooSlow: () => tooSlow++ });
    writer.comment('heartbeat');
    expect(response.ended).toBe(false);
    writer.event('x', { padding: 'p'.repeat(200) });
    writer.event('x', { after: true });
    expect(response.ended).toBe(true);
    expect(writer.isEnded).toBe(true);
    expect(tooSlow).toBe(1);
    expect(frames(response.written).map((f) => f.comment ?? f.event)).toEqual(['heartbeat', 'x', CLIENT_TOO_SLOW_COMMENT]);
  });
});
