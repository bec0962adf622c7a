/**
 * Handles one escalation from `maestro.escalations.<taskId>`: a tactical agent failed its
 * subtask and handed Orion the failure packet. Orion asks the strategic model (role `strategic`,
 * intent `escalate`) for one of four decisions and applies it:
 *
 * - `hint`: the subtask gets attempt + 1 and is dispatched again with the hint;
 * - `replan`: the subtask is `replaced` by new subtasks (appended, dispatched);
 * - `takeover`: the subtask gets attempt + 1 and is dispatched with role `strategic`;
 * - `abandon`: the subtask fails and the `code` activity fails at once with the model's reason.
 *
 * Over the limits (per subtask, per task), or without a usable decision, the subtask fails as it
 * would have without escalations (`fail`).
 *
 * **Exactly once** (see `domain/escalations.ts`): the escalation is admitted and its row stored
 * under the task's lock; the model is asked outside the lock (a claim keeps a second delivery
 * from asking at the same time); the decision is stored together with its effects under the
 * lock, unless one is stored already. What happens after that commit (publishing the new
 * dispatch, recording the steps) is re-done by a redelivery, never the decision.
 */
import { HandBackError } from '@maestro/bus';
import type { Escalation } from '@maestro/contracts';
import { cutEnd, OperationalError, toMaestroError, UserError, type Clock, type Logger } from '@maestro/runtime';
import { askUntilParsed } from '../activities/model-call.js';
import { advanceSubtasks } from './advance-subtasks.js';
import { directoriesAmong } from './declare-concerns.js';
import { publishUnacknowledgedWork } from './publish-subtask-work.js';
import { parseEscalationDecision, type StrategicDecision } from '../domain/escalation-decision.js';
import type { RepoProbe } from '../domain/repo-probe.js';
import { subtaskConcerns } from '../domain/subtask-concerns.js';
import {
  admitEscalation,
  decisionApplies,
  decisionStep,
  DefaultEscalationLimits,
  EscalationStatuses,
  escalationStep,
  escalationSummary,
  replanSubtaskIds,
  toEscalationListing,
  type EscalationLimits,
  type EscalationOutcome,
  type EscalationRecord,
} from '../domain/escalations.js';
import type { EscalationEvents, RouterPort, WorkflowPort, WorkPublisher } from '../domain/ports.js';
import { buildEscalationPrompt, ESCALATION_REPLY_FORMAT } from '../domain/prompts.js';
import { toSubtaskEvidence } from '../domain/subtask-evidence.js';
import { buildAbandonedCodeResult } from '../domain/subtask-progress.js';
import type { SubtaskRecord, TaskRecord } from '../domain/task.js';
import type { AgentStepStore } from '../store/agent-step-store.js';
import type { LockedTask, NewSubtask, SubtaskPatch, TaskStore } from '../store/task-store.js';

/** The types of the notes an escalation leaves in its run's history. */
export const EscalationNoteTypes = {
  raised: 'escalation.raised',
  decided: 'escalation.decided',
} as const;

/** The longest reason, summary or hint a note carries (the step and the task keep them whole). */
const NOTE_TEXT_CHARS = 2_000;

/** Error code with which a delivery is put back while another handler asks the model about it. */
export const ESCALATION_BEING_DECIDED = 'ESCALATION_BEING_DECIDED';

/** Limits and timeouts of escalation handling. */
export interface EscalationOptions {
  /** Escalations put to the strategic model, per subtask and per task. @default DefaultEscalationLimits */
  limits?: EscalationLimits;
  /** Re-asks of a decision reply that does not parse. @default 2 */
  replyReAsks?: number;
  /** Deadline of one strategic model call. @default 180000 */
  modelDeadlineMs?: number;
  /**
   * How long a handler's claim on asking the model lasts (another delivery of the escalation
   * waits until then). @default every call's deadline plus 30 s
   */
  claimMs?: number;
}

/** What handling an escalation needs. */
export interface EscalationDeps {
  store: TaskStore;
  steps: AgentStepStore;
  work: WorkPublisher;
  events: EscalationEvents;
  /** Where the escalation and its decision are recorded in the run's history (as notes). */
  workflow: Pick<WorkflowPort, 'recordRunNote'>;
  router: RouterPort;
  clock: Clock;
  /**
   * Tells which paths of a re-plan's subtasks are directories (their concern is `dir:`).
   * @default none: only paths written with a trailing `/` are directories
   */
  repoProbe?: Pick<RepoProbe, 'kind'>;
  options?: EscalationOptions;
}

/** What became of one delivery. */
export type EscalationHandling =
  | { action: 'unknown-task' }
  | { action: 'ignored'; reason: string }
  /** `asked`: this delivery asked the model (false for a redelivery of a decided escalation). */
  | { action: 'decided'; outcome: EscalationOutcome | null; asked: boolean };

/** A signal that never aborts, for callers without a shutdown to tell about. */
const NEVER: AbortSignal = new AbortController().signal;

/** Handles one delivery of an escalation; see the module comment. */
export async function handleEscalation(
  escalation: Escalation,
  deps: EscalationDeps,
  logger: Logger,
  signal: AbortSignal = NEVER,
): Promise<EscalationHandling> {
  const log = logger.child({ taskId: escalation.taskId, subtaskId: escalation.subtaskId, attempt: escalation.attempt, escalationId: escalation.escalationId });
  const limits = deps.options?.limits ?? DefaultEscalationLimits;
  const reAsks = deps.options?.replyReAsks ?? 2;
  const modelDeadlineMs = deps.options?.modelDeadlineMs ?? 180_000;
  const claimMs = deps.options?.claimMs ?? (reAsks + 1) * modelDeadlineMs + 30_000;
  const now = (): Date => new Date(deps.clock.now());

  const admitted = await deps.store.withLockedTask(escalation.taskId, async (locked) => {
    const all = await locked.escalations();
    const stored = all.find((e) => e.escalationId === escalation.escalationId);
    const others = all.filter((e) => e.escalationId !== escalation.escalationId);
    const subtasks = await locked.subtasks();
    const admission = admitEscalation(locked.task, subtasks, escalation, stored, others, limits, now());
    switch (admission.action) {
      case 'ignore':
        if (stored !== undefined) await locked.updateEscalation(stored.escalationId, { status: EscalationStatuses.ignored, claimedUntil: null });
        return admission;
      case 'decided':
      case 'wait':
        return admission;
      case 'limit': {
        const outcome: EscalationOutcome = { kind: 'fail', reason: admission.reason, at: now().toISOString() };
        const record = await locked.insertEscalation({ escalation, status: EscalationStatuses.failed, decision: outcome, claimedUntil: null, decidedAt: now() });
        await applyOutcome(locked, subtasks, record, outcome, [], deps);
        return { action: 'limit', reason: admission.reason, record, outcome } as const;
      }
      case 'ask': {
        const claimedUntil = new Date(now().getTime() + claimMs);
        const record =
          stored !== undefined
            ? await locked.updateEscalation(stored.escalationId, { claimedUntil })
            : await locked.insertEscalation({ escalation, status: EscalationStatuses.pending, decision: null, claimedUntil, decidedAt: null });
        const earlier = others.filter((e) => e.subtaskId === escalation.subtaskId);
        return { action: 'ask', record, fresh: stored === undefined, task: locked.task, subtasks, earlier } as const;
      }
    }
  });
  if (admitted === undefined) {
    log.warn('escalation for an unknown task ignored');
    return { action: 'unknown-task' };
  }
  switch (admitted.action) {
    case 'ignore':
      log.info('escalation ignored', { reason: admitted.reason });
      return { action: 'ignored', reason: admitted.reason };
    case 'wait':
      throw new OperationalError(ESCALATION_BEING_DECIDED, `escalation ${escalation.escalationId} is being decided by another handler until ${admitted.until.toISOString()}`);
    case 'decided': {
      // A redelivery: the decision stands; only what may have been lost after its commit is re-done.
      const record = admitted.record;
      log.info('escalation already decided; not asking again', { status: record.status, decision: record.decision?.kind ?? null });
      await recordSteps(record, deps);
      await recordInRunHistory(record, deps);
      await dispatchDecided(record, deps, log);
      return { action: 'decided', outcome: record.decision, asked: false };
    }
    case 'limit': {
      log.info('escalation over the limits; subtask failed', { reason: admitted.reason });
      await announceRaised(admitted.record, deps);
      await recordSteps(admitted.record, deps);
      await recordInRunHistory(admitted.record, deps);
      await announceDecided(admitted.record, admitted.outcome, deps);
      // Failing the subtask may have started what waited for it.
      await dispatchDecided(admitted.record, deps, log);
      return { action: 'decided', outcome: admitted.outcome, asked: false };
    }
    case 'ask':
      break;
  }

  if (admitted.fresh) {
    log.info('escalation raised; asking the strategic model', { reason: escalation.packet.reason });
    await announceRaised(admitted.record, deps);
  }

  let decided: Decided;
  try {
    await deps.steps.record(escalationStep(admitted.record));
    await recordInRunHistory(admitted.record, deps);
    decided = await decide(escalation, admitted.task, admitted.subtasks, admitted.earlier, deps, { reAsks, modelDeadlineMs }, log, signal);
    if (decided.kind === 'model' && decided.decision.decision === 'replan' && deps.repoProbe !== undefined) {
      const files = decided.decision.subtasks.flatMap((s) => s.files);
      decided = { ...decided, directories: await directoriesAmong(admitted.task.repoPath, files, deps.repoProbe) };
    }
  } catch (err) {
    // Retried (router unavailable) or handed back (shutdown): the next delivery, here or on
    // another replica, must not wait for a claim nobody is using.
    await releaseClaim(escalation, deps, log);
    throw err;
  }

  const stored = await deps.store.withLockedTask(escalation.taskId, async (locked) => {
    const record = (await locked.escalations()).find((e) => e.escalationId === escalation.escalationId);
    if (record === undefined) return undefined;
    // Someone decided first (a claim that ran out while this model call was slow): theirs stands.
    if (record.status !== EscalationStatuses.pending) return { record, mine: false } as const;
    const subtasks = await locked.subtasks();
    const applies = decisionApplies(locked.task, subtasks, escalation);
    const decidedAt = now();
    const { outcome, planned } = completeOutcome(decided, record, locked.task, subtasks, decidedAt);
    if (!applies.ok) {
      const ignored = await locked.updateEscalation(record.escalationId, { status: EscalationStatuses.ignored, decision: outcome, claimedUntil: null, decidedAt });
      return { record: ignored, mine: true, ignored: applies.reason } as const;
    }
    const status = outcome.kind === 'fail' ? EscalationStatuses.failed : EscalationStatuses.decided;
    const updated = await locked.updateEscalation(record.escalationId, { status, decision: outcome, claimedUntil: null, decidedAt });
    await applyOutcome(locked, subtasks, updated, outcome, planned, deps);
    return { record: updated, mine: true } as const;
  });
  if (stored === undefined) {
    log.warn('escalation vanished while it was decided (its task was deleted)');
    return { action: 'ignored', reason: 'the escalation is no longer stored' };
  }
  const { record } = stored;
  if ('ignored' in stored) log.info('escalation decided too late; decision not applied', { reason: stored.ignored, decision: record.decision?.kind });
  else log.info('escalation decided', { decision: record.decision?.kind, status: record.status, mine: stored.mine });
  await recordSteps(record, deps);
  await recordInRunHistory(record, deps);
  if (stored.mine && record.decision !== null) await announceDecided(record, record.decision, deps);
  await dispatchDecided(record, deps, log);
  return { action: 'decided', outcome: record.decision, asked: true };
}

/** Gives up this handler's claim on a pending escalation (best-effort: it runs out anyway). */
async function releaseClaim(escalation: Escalation, deps: EscalationDeps, log: Logger): Promise<void> {
  try {
    await deps.store.withLockedTask(escalation.taskId, async (locked) => {
      const record = (await locked.escalations()).find((e) => e.escalationId === escalation.escalationId);
      if (record?.status === EscalationStatuses.pending) await locked.updateEscalation(record.escalationId, { claimedUntil: null });
    });
  } catch (err) {
    log.warn('escalation claim not released; it runs out by itself', { error: toMaestroError(err).message });
  }
}

/**
 * A decision before it is stored: the model's (for a re-plan, with the directories among its
 * paths), or Orion's `fail` when none could be had.
 */
type Decided =
  | { kind: 'model'; decision: StrategicDecision; model: EscalationOutcome['model']; reAsks: number; directories?: ReadonlySet<string> }
  | { kind: 'fail'; reason: string };

/** Asks the strategic model. A refusal or a reply that never parsed becomes `fail`; transient errors are thrown. */
async function decide(
  escalation: Escalation,
  task: TaskRecord,
  subtasks: readonly SubtaskRecord[],
  earlier: readonly EscalationRecord[],
  deps: EscalationDeps,
  options: { reAsks: number; modelDeadlineMs: number },
  log: Logger,
  signal: AbortSignal,
): Promise<Decided> {
  const subtask = subtasks.find((s) => s.id === escalation.subtaskId);
  const messages = buildEscalationPrompt({
    goal: task.goal,
    testCommand: task.testCommand,
    subtaskId: escalation.subtaskId,
    attempt: escalation.attempt,
    role: subtask?.role ?? 'tactical',
    packet: escalation.packet,
    failureReason: escalation.result.failureReason,
    earlier: earlier.map((e) => ({
      attempt: e.attempt,
      reason: e.reason,
      decision: e.decision?.kind ?? '',
      decisionReason: e.decision?.reason ?? '',
      hint: e.decision?.hint,
    })),
    otherSubtasks: subtasks.filter((s) => s.id !== escalation.subtaskId).map((s) => ({ id: s.id, title: s.title, status: s.status })),
  });
  try {
    const { value, model, reAsks } = await askUntilParsed(
      {
        request: { runId: escalation.runId },
        taskId: escalation.taskId,
        task,
        subtaskId: escalation.subtaskId,
        attempt: escalation.attempt,
        deps: { router: deps.router, options: { modelDeadlineMs: options.modelDeadlineMs } },
        logger: log,
        signal,
      },
      'escalate',
      messages,
      { parse: parseEscalationDecision, replyFormat: ESCALATION_REPLY_FORMAT, reAsks: options.reAsks },
    );
    return { kind: 'model', decision: value, model, reAsks };
  } catch (err) {
    if (signal.aborted) throw new HandBackError('the orchestrator is shutting down; the escalation goes back to the queue', { cause: err });
    const error = toMaestroError(err);
    // Refused (the task's budget is spent, no script rule…) or never parsed: no decision will come.
    if (error instanceof UserError) {
      log.warn('strategic model gave no usable decision; failing the subtask', { code: error.code, error: error.message });
      return { kind: 'fail', reason: `the strategic model gave no usable decision (${error.code}): ${error.message}` };
    }
    throw error;
  }
}

/**
 * The stored form of a decision, and for a re-plan the subtasks to add, with ids Orion gives
 * them (after the failed subtask's id, clear of the task's other ids). They take the replaced
 * subtask's place in plan order, wait for what it waited for, need the resources it declared,
 * and stand for it in the `dependsOn` of later subtasks (see `concern-schedule.ts`).
 */
function completeOutcome(
  decided: Decided,
  record: EscalationRecord,
  task: TaskRecord,
  subtasks: readonly SubtaskRecord[],
  at: Date,
): { outcome: EscalationOutcome; planned: NewSubtask[] } {
  if (decided.kind === 'fail') return { outcome: { kind: 'fail', reason: decided.reason, at: at.toISOString() }, planned: [] };
  const d = decided.decision;
  const base = { reason: d.reason, reAsks: decided.reAsks, at: at.toISOString(), ...(decided.model ? { model: decided.model } : {}) };
  switch (d.decision) {
    case 'hint':
      return { outcome: { kind: 'hint', hint: d.hint, ...base }, planned: [] };
    case 'takeover':
      return { outcome: { kind: 'takeover', ...(d.hint !== undefined ? { hint: d.hint } : {}), ...base }, planned: [] };
    case 'abandon':
      return { outcome: { kind: 'abandon', ...base }, planned: [] };
    case 'replan': {
      const ids = replanSubtaskIds(record.subtaskId, d.subtasks.length, new Set(subtasks.map((s) => s.id)));
      const old = subtasks.find((s) => s.id === record.subtaskId);
      const dependsOn = old?.dependsOn ?? [];
      const resources = old?.resources ?? [];
      const dirs = decided.directories ?? new Set<string>();
      const planned = d.subtasks.map((s, i) => ({
        id: ids[i] as string,
        title: s.title,
        instructions: s.instructions,
        files: s.files,
        dependsOn,
        resources,
        concerns: subtaskConcerns(task.repoPath, s.files, resources, (p) => dirs.has(p)),
        replaces: record.subtaskId,
      }));
      return { outcome: { kind: 'replan', subtasks: ids, ...base }, planned };
    }
  }
}

/**
 * Applies a stored decision to the subtasks, under the task's lock (the caller's transaction).
 * Publishes the `code` activity's result when the decision ends it (abandon; a failed last
 * subtask), before the commit, as recording a subtask result does: a failed publish rolls the
 * decision back and the redelivery decides nothing new, since no decision was stored.
 */
async function applyOutcome(
  locked: LockedTask,
  subtasks: readonly SubtaskRecord[],
  record: EscalationRecord,
  outcome: EscalationOutcome,
  planned: readonly NewSubtask[],
  deps: Pick<EscalationDeps, 'work' | 'clock'>,
): Promise<void> {
  const escalation = record.escalation;
  const subtask = subtasks.find((s) => s.id === record.subtaskId);
  if (subtask === undefined) return;
  const evidence = escalation.result as unknown as Record<string, unknown>;
  // The next attempt waits for the scheduler like any other (in practice it starts at once:
  // whatever conflicts with it waited for it).
  // The escalated attempt's executor, worktree and verdict stay on view until the next one reports.
  const nextAttempt: SubtaskPatch = { status: 'pending', summary: null, commitSha: null, filesChanged: [], failureReason: null, result: null, ...toSubtaskEvidence(escalation.result) };
  const finishedAt = new Date(deps.clock.now()).toISOString();
  switch (outcome.kind) {
    case 'hint':
      await locked.updateSubtask(subtask.id, { ...nextAttempt, hint: outcome.hint ?? null });
      await advanceSubtasks(locked, deps);
      return;
    case 'takeover':
      await locked.updateSubtask(subtask.id, { ...nextAttempt, role: 'strategic', hint: outcome.hint ?? subtask.hint });
      await advanceSubtasks(locked, deps);
      return;
    case 'replan': {
      await locked.appendSubtasks(planned, { status: 'pending', attempt: 0 });
      await locked.updateSubtask(subtask.id, {
        status: 'replaced',
        summary: `replaced by ${planned.map((s) => s.id).join(', ')} after it escalated (${escalation.packet.reason}): ${outcome.reason}`,
        filesChanged: escalation.result.filesChanged,
        failureReason: null,
        result: evidence,
        ...toSubtaskEvidence(escalation.result),
      });
      await advanceSubtasks(locked, deps);
      return;
    }
    case 'abandon': {
      await locked.updateSubtask(subtask.id, failedPatch(escalation, `abandoned by Orion after it escalated: ${outcome.reason}`));
      // What has not started never will: the task fails with this result.
      for (const waiting of subtasks.filter((s) => s.status === 'pending' && s.id !== subtask.id)) {
        await locked.updateSubtask(waiting.id, { status: 'failed', failureReason: `not run: Orion abandoned the task after ${subtask.id} escalated` });
      }
      const code = locked.task.code;
      if (code === null) return;
      const final = await locked.subtasks();
      const listing = (await locked.escalations()).map(toEscalationListing);
      await deps.work.publishActivityResult(buildAbandonedCodeResult(code, final, subtask, outcome.reason, finishedAt, listing));
      return;
    }
    case 'fail': {
      const original = escalation.result.failureReason ?? 'the executor reported a failure without a reason';
      await locked.updateSubtask(subtask.id, failedPatch(escalation, `${original}; ${outcome.reason}`));
      // Its dependents fail, what waited for it starts, and the last one publishes the code result.
      await advanceSubtasks(locked, deps);
      return;
    }
  }
}

function failedPatch(escalation: Escalation, failureReason: string): SubtaskPatch {
  return {
    status: 'failed',
    summary: escalation.result.summary,
    commitSha: escalation.result.commitSha ?? null,
    filesChanged: escalation.result.filesChanged,
    failureReason,
    result: escalation.result as unknown as Record<string, unknown>,
    ...toSubtaskEvidence(escalation.result),
  };
}

/** Records the escalation's steps in the task's history (idempotent: fixed identities). */
async function recordSteps(record: EscalationRecord, deps: Pick<EscalationDeps, 'steps'>): Promise<void> {
  await deps.steps.record(escalationStep(record));
  if (record.decision !== null) await deps.steps.record(decisionStep(record, record.decision));
}

/**
 * The escalation and, once there is one, its decision as notes in the run's history
 * (`escalation.raised`, `escalation.decided`), each once by its note id: a redelivery records
 * what is missing and nothing twice. A failure throws, so the delivery is retried.
 */
async function recordInRunHistory(record: EscalationRecord, deps: Pick<EscalationDeps, 'workflow'>): Promise<void> {
  const base = { escalationId: record.escalationId, subtaskId: record.subtaskId, attempt: record.attempt };
  const e = record.escalation;
  await deps.workflow.recordRunNote({
    tenant: '',
    runId: record.runId,
    type: EscalationNoteTypes.raised,
    noteId: `${record.escalationId}:raised`,
    data: { ...base, reason: cutEnd(e.packet.reason, NOTE_TEXT_CHARS), summary: cutEnd(escalationSummary(e), NOTE_TEXT_CHARS) },
  });
  const outcome = record.decision;
  if (outcome === null) return;
  await deps.workflow.recordRunNote({
    tenant: '',
    runId: record.runId,
    type: EscalationNoteTypes.decided,
    noteId: `${record.escalationId}:decided`,
    data: {
      ...base,
      decision: outcome.kind,
      reason: cutEnd(outcome.reason, NOTE_TEXT_CHARS),
      ...(outcome.hint !== undefined ? { hint: cutEnd(outcome.hint, NOTE_TEXT_CHARS) } : {}),
      ...(outcome.subtasks !== undefined ? { subtasks: outcome.subtasks } : {}),
    },
  });
}

async function announceRaised(record: EscalationRecord, deps: Pick<EscalationDeps, 'events'>): Promise<void> {
  const e = record.escalation;
  await deps.events.raised({
    escalationId: e.escalationId,
    taskId: e.taskId,
    runId: e.runId,
    subtaskId: e.subtaskId,
    attempt: e.attempt,
    executorId: e.executorId,
    reason: e.packet.reason,
    summary: escalationSummary(e),
    at: record.createdAt.toISOString(),
  });
}

async function announceDecided(record: EscalationRecord, outcome: EscalationOutcome, deps: Pick<EscalationDeps, 'events'>): Promise<void> {
  await deps.events.decided({
    escalationId: record.escalationId,
    taskId: record.taskId,
    runId: record.runId,
    subtaskId: record.subtaskId,
    attempt: record.attempt,
    decision: outcome.kind,
    reason: outcome.reason,
    ...(outcome.hint !== undefined ? { hint: outcome.hint } : {}),
    ...(outcome.subtasks !== undefined ? { subtasks: outcome.subtasks } : {}),
    at: outcome.at,
  });
}

/**
 * Publishes the work a decision started (the subtask's next attempt, the re-plan's subtasks, and
 * whatever else the scheduler started once the decision was applied) that the stream has not
 * acknowledged yet, then marks it dispatched: the same exactly-once rule as the code activity's
 * dispatch. Nothing for a decision that was not applied.
 */
async function dispatchDecided(record: EscalationRecord, deps: EscalationDeps, log: Logger): Promise<void> {
  if (record.decision === null || (record.status !== EscalationStatuses.decided && record.status !== EscalationStatuses.failed)) return;
  const published = await publishUnacknowledgedWork(record.taskId, deps);
  if (published.length > 0) log.info('escalation decision dispatched', { dispatched: published.map((d) => `${d.subtaskId}#${d.attempt}`) });
}
