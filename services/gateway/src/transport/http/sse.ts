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
 */
import type { ServerResponse } from 'node:http';
import { Subjects, type Run } from '@maestro/contracts';
import { systemClock, type Clock, type Logger, type Timer } from '@maestro/runtime';
import type { FastifyReply } from 'fastify';
import type { BusEvent, LockEvents, OrchestratorApi, RunEvents, WorkflowApi } from '../../ports.js';
import { lockSubjects } from '../nats/run-event-hub.js';
import { readRunSteps, StepReadLimits, stepIdentity, type RunSteps } from './agent-steps.js';
import { startHeartbeat } from './heartbeat.js';
import { toAgentStepJson, toTransitionJson } from './presenters.js';
import { isLockEventOfTask } from './run-lock-events.js';

/** Streams that are open now, so a shutting-down gateway can end them instead of waiting. */
export class OpenStreams {
  private readonly closers = new Set<() => void>();

  /** Remembers a stream's closer; returns the function that forgets it. */
  add(close: () => void): () => void {
    this.closers.add(close);
    return () => {
      this.closers.delete(close);
    };
  }

  /** How many streams are open. */
  get size(): number {
    return this.closers.size;
  }

  /** Ends every open stream (clients see the stream end and may reconnect elsewhere). */
  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}

/** How much a stream may hold unsent for a slow client before it is ended: 1 MiB. */
export const DEFAULT_SSE_MAX_BUFFERED_BYTES = 1024 * 1024;

/** The last line a stream sends when its client does not read fast enough. */
export const CLIENT_TOO_SLOW_COMMENT = 'client too slow; reconnect to resume';

/** Options of {@link SseWriter}. */
export interface SseWriterOptions {
  /** Unsent bytes (`writableLength`) past which the stream is ended. @default DEFAULT_SSE_MAX_BUFFERED_BYTES */
  maxBufferedBytes?: number;
  /** Called once when the stream was ended because the client fell behind, so its owner stops too. */
  onTooSlow?: () => void;
}

/**
 * Writes the `text/event-stream` wire format: numbered events and comment lines. A client that
 * stops reading would make every write pile up in gateway memory, so once more than
 * `maxBufferedBytes` wait unsent the stream ends with {@link CLIENT_TOO_SLOW_COMMENT}; the
 * client reconnects and replays from the run's history.
 */
export class SseWriter {
  private nextId = 1;
  private ended = false;
  private readonly maxBufferedBytes: number;

  constructor(
    private readonly response: ServerResponse,
    private readonly options: SseWriterOptions = {},
  ) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_SSE_MAX_BUFFERED_BYTES;
  }

  /** Whether the stream has ended (by {@link end} or because the client fell behind). */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Sends the status line and headers at once, so the client knows the stream is open. */
  open(): void {
    this.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and similar proxies buffer responses unless told otherwise.
      'x-accel-buffering': 'no',
    });
    this.response.flushHeaders();
  }

  /** Sends one event; `id` increases by one per event of this stream. */
  event(name: string, data: unknown): void {
    if (this.ended) return;
    // JSON.stringify escapes newlines inside strings, so `data` is always one line.
    this.write(`id: ${this.nextId++}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Sends a comment line, which clients ignore; keeps idle connections from being cut. */
  comment(text: string): void {
    if (this.ended) return;
    this.write(`: ${text}\n\n`);
  }

  private write(chunk: string): void {
    // write() returning false only says the buffer is past its high-water mark; what bounds
    // memory is how much is still unsent, whatever the socket's own buffer size.
    this.response.write(chunk);
    if (this.response.writableLength <= this.maxBufferedBytes) return;
    this.response.write(`: ${CLIENT_TOO_SLOW_COMMENT}\n\n`);
    this.end();
    this.options.onTooSlow?.();
  }

  /** Ends the response. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.response.end();
  }
}

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
export interface RunEventStreamOptions {
  /** The caller's tenant: the run and its steps are read for it (another tenant's run is not found). */
  tenant: string;
  runId: string;
  workflow: Pick<WorkflowApi, 'getRun'>;
  /** Where the run's agent steps are recorded; a failure there only leaves steps out. */
  orchestrator: Pick<OrchestratorApi, 'listAgentSteps'>;
  events: RunEvents & LockEvents;
  streams: OpenStreams;
  /** Interval of the heartbeat comment, and of re-reading the run to catch a missed `run.finished`. @default 15000 */
  heartbeatMs: number;
  /** What the heartbeat is timed by. @default systemClock */
  clock?: Clock;
  /** Unsent bytes past which a slow client's stream is ended. @default DEFAULT_SSE_MAX_BUFFERED_BYTES (1 MiB) */
  maxBufferedBytes?: number;
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

  reply.hijack();
  if (reply.raw.destroyed) {
    // The client left while the history was being read; its 'close' has already fired.
    unlisten();
    return;
  }
  let heartbeat: Timer | undefined;
  let forget: () => void = () => undefined;
  let finished = false;
  const finish = (why: string): void => {
    if (finished) return;
    finished = true;
    unlisten();
    forget();
    heartbeat?.cancel();
    writer.end();
    logger.debug('run event stream ended', { runId, why });
  };
  const writer = new SseWriter(reply.raw, {
    ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
    onTooSlow: () => {
      logger.info('run event stream ended: client too slow', { runId });
      finish('client too slow');
    },
  });
  forget = options.streams.add(() => finish('gateway shutting down'));
  reply.raw.on('close', () => finish('client closed'));

  writer.open();
  logger.debug('run event stream opened', { runId, history: run.history.length, buffered: buffered.length });

  // History first, each entry as the run.transitioned event it once was.
  const seen = new Set<string>();
  let lastHistorySeq = 0;
  for (const transition of run.history) {
    writer.event(eventNameOf(Subjects.runTransitioned), replayedTransitionEvent(run, transition));
    seen.add(`${Subjects.runTransitioned}:${transition.seq}`);
    lastHistorySeq = Math.max(lastHistorySeq, transition.seq);
  }
  // The highest transition seq this stream has sent, from the history or live.
  let sentSeq = lastHistorySeq;

  // Then the steps recorded so far, each as the work.step event it once was.
  const sentSteps = new Set<string>();
  const replaySteps = (steps: RunSteps): void => {
    for (const step of steps.steps) {
      const payload = { ...toAgentStepJson(step), replay: true };
      const identity = stepIdentity(payload);
      if (identity !== undefined) {
        if (sentSteps.has(identity)) continue;
        sentSteps.add(identity);
      }
      writer.event(eventNameOf(Subjects.workStep), payload);
    }
  };
  if (recorded) {
    replaySteps(recorded);
    if (recorded.nextAfter !== '') logger.info('run event stream replays only the first recorded steps', { runId, replayed: recorded.steps.length });
  } else {
    writer.comment('recorded steps unavailable');
  }

  if (run.status !== 'running') {
    // The run ended before we looked: say how, and stop; nothing more will happen.
    writer.event(eventNameOf(Subjects.runFinished), finishedEventOf(run));
    finish('run had already ended');
    return;
  }

  // A run of no task has no lock events: stop taking them.
  const taskId = taskIdOfRun(run);
  if (taskId === undefined) unlistenLocks();

  const forward = (event: BusEvent): void => {
    if (finished) return;
    if (lockSubjects.has(event.subject)) {
      if (taskId !== undefined && isLockEventOfTask(event, taskId)) writer.event(eventNameOf(event.subject), event.payload);
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
    writer.event(eventNameOf(event.subject), event.payload);
    if (event.subject === Subjects.runFinished) finish('run finished');
  };
  for (const event of buffered.splice(0)) forward(event);
  if (finished) return;
  deliver = forward;

  let rereading = false;
  const reread = async (): Promise<void> => {
    // One re-read at a time: a slow engine must not pile calls up, one per beat.
    if (rereading || finished) return;
    rereading = true;
    try {
      const now = await options.workflow.getRun({ tenant: options.tenant, runId });
      // The live run.finished may have arrived (and ended the stream) meanwhile.
      if (finished || now.status === 'running') return;
      // Steps whose live events were lost the same way. Read before anything is written, so
      // what follows is written at once, with no live event in between.
      const steps = await readSteps();
      if (finished) return;
      logger.info('run finished without its live event reaching this stream; ending it from the run', { runId, status: now.status });
      for (const transition of [...now.history].sort((a, b) => a.seq - b.seq)) {
        if (transition.seq > sentSeq) writer.event(eventNameOf(Subjects.runTransitioned), replayedTransitionEvent(now, transition));
      }
      if (steps) replaySteps(steps);
      writer.event(eventNameOf(Subjects.runFinished), finishedEventOf(now));
      finish('run finished (seen on re-read)');
    } catch (err) {
      // The stream stays open: live events still arrive, and the next beat reads again.
      logger.warn('re-reading the run for its event stream failed', { runId, err });
    } finally {
      rereading = false;
    }
  };
  heartbeat = startHeartbeat(options.clock ?? systemClock, options.heartbeatMs, () => {
    writer.comment('heartbeat');
    void reread();
  });
}
