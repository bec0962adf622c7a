/**
 * Server-sent events for one workflow run: its history so far and the steps its agents took so
 * far, then its live events from NATS, until the run finishes.
 *
 * The order matters. The listener for live events is registered first and buffers; only then
 * is the history read (GetRun). Whatever happened between the two is in the buffer, and
 * whatever is in both (a transition already in the history that also arrives live) is dropped
 * by its `seq`, so a client sees every transition exactly once. The agents' recorded steps
 * (ListAgentSteps) are read at the same time and replayed after the transitions; a live step
 * that is also among them is dropped by its identity (`stepIdentity`).
 *
 * The live events also include the lock events of the run's task (lock events name a lease
 * owner, not a run): once the run is read, an event is passed on when its owner,
 * `executor:<executorId>:<taskId>:<subtaskId>`, names the task of the run's
 * `context.input.taskId` ({@link isLockEventOfTask}). They are live only, no replay: a client
 * reads `GET /v1/locks` for the table so far.
 *
 * Live events come over core NATS, which drops messages while a connection is down. So each
 * heartbeat also re-reads the run: once it has finished, the transitions the stream missed and a
 * `run.finished` built from the run are sent (with the recorded steps the stream has not shown)
 * and the stream ends, instead of waiting for an event that may never come.
 *
 * What every stream shares (hijack, heartbeat, shutdown, slow clients, the caller's credential
 * lapsing) is sse-stream.ts.
 */
import { Subjects, type Run } from '@maestro/contracts';
import { systemClock, type Logger } from '@maestro/runtime';
import type { FastifyReply } from 'fastify';
import type { Principal } from '../../auth/principal.js';
import type { BusEvent, LockEvents, OrchestratorApi, RunEvents, WorkflowApi } from '../../ports.js';
import { lockSubjects } from '../nats/run-event-hub.js';
import { readRunSteps, StepReadLimits, stepIdentity, type RunSteps } from './agent-steps.js';
import { toAgentStepJson, toTransitionJson } from './presenters.js';
import { isLockEventOfTask } from './run-lock-events.js';
import { openSseStream, type SseStreamSettings } from './sse-stream.js';

/** The SSE event name of a subject: its last two tokens (`maestro.events.run.transitioned` → `run.transitioned`). */
export function eventNameOf(subject: string): string {
  return subject.split('.').slice(-2).join('.');
}

const runSubjectsWithSeq = new Set<string>([Subjects.runStarted, Subjects.runTransitioned]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `run.transitioned` event a history entry once was, marked `replay: true` (read from the run, not live). */
export function replayedTransitionEvent(run: Run, transition: Run['history'][number]): Record<string, unknown> {
  const entry = toTransitionJson(transition);
  return {
    runId: run.id,
    definitionName: run.definitionName,
    seq: entry.seq,
    fromState: entry.fromState,
    state: entry.toState,
    eventType: entry.eventType,
    event: entry.event,
    at: entry.at,
    ...(entry.note ? { note: true } : {}),
    replay: true,
  };
}

/**
 * The `run.finished` event of a finished run, built from the run itself (`replay: true`): for a
 * stream opened after the run ended, and for one whose live `run.finished` never arrived. Same
 * fields as the engine's event: `seq` of the last transition, `error` from `context.error`.
 */
export function finishedEventOf(run: Run): Record<string, unknown> {
  const seq = run.history.reduce((max, t) => Math.max(max, t.seq), 0);
  const context = isRecord(run.context) ? run.context : {};
  const error = context['error'];
  return {
    runId: run.id,
    definitionName: run.definitionName,
    status: run.status,
    state: run.state,
    ...(seq > 0 ? { seq } : {}),
    ...(context['input'] !== undefined ? { input: context['input'] } : {}),
    ...(isRecord(error) && typeof error['code'] === 'string' && typeof error['message'] === 'string'
      ? { error: { code: error['code'], message: error['message'] } }
      : {}),
    at: run.updatedAt ? run.updatedAt.toISOString() : null,
    replay: true,
  };
}

/** The task a coding run was started for (`context.input.taskId`), or undefined for a run of no task. */
export function taskIdOfRun(run: Pick<Run, 'context'>): string | undefined {
  const input = isRecord(run.context) ? run.context['input'] : undefined;
  const taskId = isRecord(input) ? input['taskId'] : undefined;
  return typeof taskId === 'string' && taskId !== '' ? taskId : undefined;
}

/** What {@link streamRunEvents} needs. */
export interface RunEventStreamOptions extends Omit<SseStreamSettings, 'clock'> {
  /** The caller's tenant: the run and its steps are read for it (another tenant's run is not found). */
  tenant: string;
  runId: string;
  /** Who the stream is for: it ends when this credential is revoked or expires. */
  principal: Principal;
  workflow: Pick<WorkflowApi, 'getRun'>;
  /** Where the run's agent steps are recorded; a failure there only leaves steps out. */
  orchestrator: Pick<OrchestratorApi, 'listAgentSteps'>;
  events: RunEvents & LockEvents;
  /** Interval of the heartbeat comment, of the credential re-check, and of re-reading the run to catch a missed `run.finished`. */
  heartbeatMs: number;
  /** What the heartbeat is timed by. @default systemClock */
  clock?: SseStreamSettings['clock'];
  logger: Logger;
}

/**
 * Answers `GET /v1/runs/:id/events`. Throws (before anything is written) when the run cannot
 * be read, so the caller gets an ordinary JSON error such as a 404; after that the response
 * is the event stream, ended after `run.finished` or when the client goes away.
 */
export async function streamRunEvents(reply: FastifyReply, options: RunEventStreamOptions): Promise<void> {
  const { runId, logger } = options;
  const buffered: BusEvent[] = [];
  let deliver: ((event: BusEvent) => void) | undefined;
  const receive = (event: BusEvent): void => {
    if (deliver) deliver(event);
    else buffered.push(event);
  };
  const unlistenRun = options.events.listen(runId, receive);
  const unlistenLocks = options.events.listenLocks(receive);
  const unlisten = (): void => {
    unlistenRun();
    unlistenLocks();
  };

  // Best-effort: the run is the workflow-engine's, and an orchestrator outage must not hide it.
  const readSteps = async (): Promise<RunSteps | undefined> => {
    try {
      return await readRunSteps(options.orchestrator, options.tenant, runId, StepReadLimits.streamSteps);
    } catch (err) {
      logger.warn('recorded agent steps unavailable for the run event stream', { runId, err });
      return undefined;
    }
  };

  let run;
  let recorded: RunSteps | undefined;
  try {
    [run, recorded] = await Promise.all([options.workflow.getRun({ tenant: options.tenant, runId }), readSteps()]);
  } catch (err) {
    unlisten();
    throw err;
  }

  // Each heartbeat also re-reads the run (`reread`, below, set before the first beat can come).
  let onBeat: () => void = () => undefined;
  const stream = openSseStream(reply, {
    streams: options.streams,
    heartbeatMs: options.heartbeatMs,
    clock: options.clock ?? systemClock,
    ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
    credentials: options.credentials,
    principal: options.principal,
    logger,
    logFields: { runId },
    onBeat: () => onBeat(),
    onEnd: unlisten,
  });
  // The client left while the history was being read; its 'close' has already fired.
  if (!stream) return;
  const finish = stream.finish;

  logger.debug('run event stream opened', { runId, history: run.history.length, buffered: buffered.length });

  // History first, each entry as the run.transitioned event it once was.
  const seen = new Set<string>();
  let lastHistorySeq = 0;
  for (const transition of run.history) {
    stream.event(eventNameOf(Subjects.runTransitioned), replayedTransitionEvent(run, transition));
    seen.add(`${Subjects.runTransitioned}:${transition.seq}`);
    lastHistorySeq = Math.max(lastHistorySeq, transition.seq);
    if (!(await stream.pace())) return;
  }
  // The highest transition seq this stream has sent, from the history or live.
  let sentSeq = lastHistorySeq;

  // Then the steps recorded so far, each as the work.step event it once was.
  const sentSteps = new Set<string>();
  // Paced: thousands of steps are sent as fast as the client reads them, never all at once
  // past the bound on what a client may leave unsent (which would end the stream every time).
  const replaySteps = async (steps: RunSteps): Promise<void> => {
    for (const step of steps.steps) {
      const payload = { ...toAgentStepJson(step), replay: true };
      const identity = stepIdentity(payload);
      if (identity !== undefined) {
        if (sentSteps.has(identity)) continue;
        sentSteps.add(identity);
      }
      stream.event(eventNameOf(Subjects.workStep), payload);
      if (!(await stream.pace())) return;
    }
  };
  if (recorded) {
    await replaySteps(recorded);
    if (stream.finished) return;
    if (recorded.nextAfter !== '') logger.info('run event stream replays only the first recorded steps', { runId, replayed: recorded.steps.length });
  } else {
    stream.comment('recorded steps unavailable');
  }

  if (run.status !== 'running') {
    // The run ended before we looked: say how, and stop; nothing more will happen.
    stream.event(eventNameOf(Subjects.runFinished), finishedEventOf(run));
    finish('run had already ended');
    return;
  }

  // A run of no task has no lock events: stop taking them.
  const taskId = taskIdOfRun(run);
  if (taskId === undefined) unlistenLocks();

  const forward = (event: BusEvent): void => {
    if (stream.finished) return;
    if (lockSubjects.has(event.subject)) {
      if (taskId !== undefined && isLockEventOfTask(event, taskId)) stream.event(eventNameOf(event.subject), event.payload);
      return;
    }
    if (event.subject === Subjects.workStep) {
      // Already replayed from the record, or a second copy of a live one.
      const identity = stepIdentity(event.payload);
      if (identity !== undefined) {
        if (sentSteps.has(identity)) return;
        sentSteps.add(identity);
      }
    }
    const seq = event.payload.seq;
    if (typeof seq === 'number' && event.subject !== Subjects.runFinished) {
      // Already in the history we sent, or a second copy of a live one.
      if (runSubjectsWithSeq.has(event.subject) && seq <= lastHistorySeq) return;
      const key = `${event.subject}:${seq}`;
      if (seen.has(key)) return;
      seen.add(key);
      if (runSubjectsWithSeq.has(event.subject)) sentSeq = Math.max(sentSeq, seq);
    }
    stream.event(eventNameOf(event.subject), event.payload);
    if (event.subject === Subjects.runFinished) finish('run finished');
  };
  for (const event of buffered.splice(0)) forward(event);
  if (stream.finished) return;
  deliver = forward;

  let rereading = false;
  const reread = async (): Promise<void> => {
    // One re-read at a time: a slow engine must not pile calls up, one per beat.
    if (rereading || stream.finished) return;
    rereading = true;
    try {
      const now = await options.workflow.getRun({ tenant: options.tenant, runId });
      // The live run.finished may have arrived (and ended the stream) meanwhile.
      if (stream.finished || now.status === 'running') return;
      // Steps whose live events were lost the same way, read before anything is written (a live
      // event sent while the replay is paced is not sent twice: both paths skip what was sent).
      const steps = await readSteps();
      if (stream.finished) return;
      logger.info('run finished without its live event reaching this stream; ending it from the run', { runId, status: now.status });
      for (const transition of [...now.history].sort((a, b) => a.seq - b.seq)) {
        if (transition.seq > sentSeq) stream.event(eventNameOf(Subjects.runTransitioned), replayedTransitionEvent(now, transition));
      }
      if (steps) await replaySteps(steps);
      stream.event(eventNameOf(Subjects.runFinished), finishedEventOf(now));
      finish('run finished (seen on re-read)');
    } catch (err) {
      // The stream stays open: live events still arrive, and the next beat reads again.
      logger.warn('re-reading the run for its event stream failed', { runId, err });
    } finally {
      rereading = false;
    }
  };
  onBeat = () => void reread();
}
