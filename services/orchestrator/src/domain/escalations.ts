/**
 * The rules of escalations: when an escalation of a failed subtask is put to the strategic model
 * (once, within the limits), when it is ignored (stale, duplicate, task ended), how a re-plan
 * names its subtasks, and how escalations and decisions read in the task's steps. Pure data and
 * functions; the handler (`app/handle-escalation.ts`) does the I/O.
 *
 * **Exactly once.** An escalation is keyed by the failed work item's id. Its row is inserted
 * when it is first admitted, and its decision is stored together with the decision's effects
 * on the subtasks, under the task's row lock. A redelivery finds the decision and only re-does
 * what may have been lost after the commit (publishing the new dispatch, recording the steps);
 * the model is never asked again.
 */
import type { Escalation, FailureKind, FailurePacket } from '@maestro/contracts';
import type { AgentStepRecord } from './agent-step.js';
import type { StrategicDecisionKind } from './escalation-decision.js';
import type { ReflexMark } from './reflex-learning.js';
import { decideSubtaskResult } from './subtask-progress.js';
import { isFinalTaskStatus, type SubtaskRecord, type TaskRecord } from './task.js';

/** Where an escalation stands. */
export const EscalationStatuses = {
  /** Admitted; the strategic model is (or will be) asked. */
  pending: 'pending',
  /** The strategic model decided, and its decision was applied. */
  decided: 'decided',
  /** Orion failed the subtask without a strategic decision (limit reached, no usable decision). */
  failed: 'failed',
  /** Decided too late to apply (the task ended or the subtask moved on meanwhile). */
  ignored: 'ignored',
} as const;
export type EscalationStatus = (typeof EscalationStatuses)[keyof typeof EscalationStatuses];

/** What became of an escalation: one of the model's four choices, or `fail` (Orion's policy). */
export type EscalationDecisionKind = StrategicDecisionKind | 'fail';

/** Who answered a model call; `scripted` is true when a script, not a model, replied. */
export interface DecidingModel {
  provider: string;
  model: string;
  scripted: boolean;
}

/** The stored decision of an escalation. */
export interface EscalationOutcome {
  kind: EscalationDecisionKind;
  /** The model's reason, or why Orion failed the subtask without asking. */
  reason: string;
  /** For `hint` (and optionally `takeover`): what the next attempt is told. */
  hint?: string;
  /** For `replan`: the ids of the subtasks put in place of the failed one. */
  subtasks?: string[];
  /** The model that decided (absent for `fail` without a model's answer). */
  model?: DecidingModel;
  /** How often the reply was asked again because it did not parse. */
  reAsks?: number;
  /** When it was decided (ISO-8601). */
  at: string;
  /** The reflex learned once the subtask succeeded verified after this decision (see `reflex-learning.ts`). */
  reflex?: ReflexMark;
}

/** A stored escalation. */
export interface EscalationRecord {
  escalationId: string;
  taskId: string;
  runId: string;
  subtaskId: string;
  attempt: number;
  reason: FailureKind;
  /** The escalation message as received. */
  escalation: Escalation;
  status: EscalationStatus;
  decision: EscalationOutcome | null;
  /** While in the future, a handler is asking the model about it. */
  claimedUntil: Date | null;
  createdAt: Date;
  decidedAt: Date | null;
}

/** How many escalations are put to the strategic model. */
export interface EscalationLimits {
  /** Per subtask (its re-plan's subtasks count on their own). @default 2 */
  perSubtask: number;
  /** Per task, all subtasks together. @default 6 */
  perTask: number;
}

/** The defaults of {@link EscalationLimits}. */
export const DefaultEscalationLimits: EscalationLimits = { perSubtask: 2, perTask: 6 };

/** Escalations that count against the limits: those the model decided or is deciding. */
function counts(record: EscalationRecord): boolean {
  return record.status === EscalationStatuses.pending || record.status === EscalationStatuses.decided;
}

/**
 * Why the escalation may not be put to the model (a limit is reached), or undefined. `others`
 * are the task's other escalations.
 */
export function escalationLimitReason(subtaskId: string, others: readonly EscalationRecord[], limits: EscalationLimits): string | undefined {
  const ofTask = others.filter(counts);
  const ofSubtask = ofTask.filter((e) => e.subtaskId === subtaskId);
  if (ofSubtask.length >= limits.perSubtask) {
    return `escalation limit reached: subtask ${subtaskId} was escalated ${ofSubtask.length} time${ofSubtask.length === 1 ? '' : 's'} already (at most ${limits.perSubtask} per subtask)`;
  }
  if (ofTask.length >= limits.perTask) {
    return `escalation limit reached: the task's subtasks were escalated ${ofTask.length} time${ofTask.length === 1 ? '' : 's'} already (at most ${limits.perTask} per task)`;
  }
  return undefined;
}

/** What an arriving escalation leads to, decided under the task's lock. */
export type EscalationAdmission =
  /** Not for now: the task ended, another run, a stale attempt, a subtask already final. */
  | { action: 'ignore'; reason: string }
  /** Already decided: re-do only what may have been lost after that commit. */
  | { action: 'decided'; record: EscalationRecord }
  /** Another handler is asking the model until `until`; try again later. */
  | { action: 'wait'; until: Date }
  /** Over the limits: the subtask fails as it would have without escalations. */
  | { action: 'limit'; reason: string }
  /** Ask the strategic model (first time, or the previous asker's claim ran out). */
  | { action: 'ask' };

/**
 * Decides what to do with an escalation. `stored` is its row if it has one, `others` the task's
 * other escalations. A decided escalation is never asked again, whatever state the task is in.
 */
export function admitEscalation(
  task: TaskRecord,
  subtasks: readonly SubtaskRecord[],
  escalation: Pick<Escalation, 'escalationId' | 'runId' | 'subtaskId' | 'attempt'>,
  stored: EscalationRecord | undefined,
  others: readonly EscalationRecord[],
  limits: EscalationLimits,
  now: Date,
): EscalationAdmission {
  if (stored !== undefined && stored.status !== EscalationStatuses.pending) return { action: 'decided', record: stored };
  if (isFinalTaskStatus(task.status)) return { action: 'ignore', reason: `the task already ${task.status}` };
  const fit = decideSubtaskResult(task, subtasks, { ...escalation, ok: false });
  if (fit.action === 'ignore') return { action: 'ignore', reason: fit.reason };
  if (stored !== undefined) {
    if (stored.claimedUntil !== null && stored.claimedUntil.getTime() > now.getTime()) return { action: 'wait', until: stored.claimedUntil };
    return { action: 'ask' };
  }
  const limit = escalationLimitReason(escalation.subtaskId, others, limits);
  return limit !== undefined ? { action: 'limit', reason: limit } : { action: 'ask' };
}

/**
 * Whether a decision reached after asking the model can still be applied: the task is active and
 * the subtask still waits on this attempt (a cancel, or a new plan, may have come meanwhile).
 */
export function decisionApplies(
  task: TaskRecord,
  subtasks: readonly SubtaskRecord[],
  escalation: Pick<Escalation, 'runId' | 'subtaskId' | 'attempt'>,
): { ok: true } | { ok: false; reason: string } {
  if (isFinalTaskStatus(task.status)) return { ok: false, reason: `the task already ${task.status}` };
  const fit = decideSubtaskResult(task, subtasks, { ...escalation, ok: false });
  return fit.action === 'ignore' ? { ok: false, reason: fit.reason } : { ok: true };
}

/**
 * Ids for a re-plan's subtasks: `<old>.1`, `<old>.2`, … after the failed subtask's id, moved on
 * past any id the task already has, so they never collide with the plan's own.
 */
export function replanSubtaskIds(oldId: string, count: number, taken: ReadonlySet<string>): string[] {
  for (let start = 1; ; start += count) {
    const ids = Array.from({ length: count }, (_, i) => `${oldId}.${start + i}`);
    if (ids.every((id) => !taken.has(id))) return ids;
  }
}

/** Who Orion's own steps are recorded as (the `executor_id` of escalation and decision steps). */
export const ORION_STEP_EXECUTOR = 'orion';

/** Longest step summary stored (the executors' limit too). */
const MAX_STEP_SUMMARY = 500;

function clip(text: string, max = MAX_STEP_SUMMARY): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** A short account of an escalation: its kind and the agent's own account or failure reason. */
export function escalationSummary(escalation: Escalation): string {
  const account = escalation.packet.agentAccount.trim() || escalation.result.failureReason || escalation.result.summary;
  return clip(`${escalation.packet.reason} after attempt ${escalation.attempt} on ${escalation.executorId}: ${account}`);
}

/** A short account of a decision. */
export function decisionSummary(outcome: EscalationOutcome): string {
  switch (outcome.kind) {
    case 'hint':
      return clip(`hint: ${outcome.reason} — hint: ${outcome.hint ?? ''}`);
    case 'replan':
      return clip(`replan into ${(outcome.subtasks ?? []).join(', ')}: ${outcome.reason}`);
    case 'takeover':
      return clip(`takeover by the strategic model: ${outcome.reason}`);
    case 'abandon':
      return clip(`abandon the task: ${outcome.reason}`);
    case 'fail':
      return clip(`subtask failed without a decision: ${outcome.reason}`);
  }
}

/**
 * The step recording an escalation in the task's steps, as Orion took it in. Its identity
 * (executor `orion`, step 0, the escalation's time) is fixed, so recording it again is a no-op.
 */
export function escalationStep(record: EscalationRecord): AgentStepRecord {
  const at = Date.parse(record.escalation.raisedAt);
  return {
    taskId: record.taskId,
    runId: record.runId,
    subtaskId: record.subtaskId,
    executorId: ORION_STEP_EXECUTOR,
    step: 0,
    kind: 'escalation',
    tool: null,
    summary: escalationSummary(record.escalation),
    ok: false,
    at: Number.isNaN(at) ? record.createdAt : new Date(at),
    attempt: record.attempt,
  };
}

/** The step recording an escalation's decision (executor `orion`, step 1, the decision's time). */
export function decisionStep(record: EscalationRecord, outcome: EscalationOutcome): AgentStepRecord {
  const at = Date.parse(outcome.at);
  return {
    taskId: record.taskId,
    runId: record.runId,
    subtaskId: record.subtaskId,
    executorId: ORION_STEP_EXECUTOR,
    step: 1,
    kind: 'decision',
    tool: null,
    summary: decisionSummary(outcome),
    ok: outcome.kind !== 'abandon' && outcome.kind !== 'fail',
    at: Number.isNaN(at) ? (record.decidedAt ?? record.createdAt) : new Date(at),
    attempt: record.attempt,
  };
}

/** The escalations of a task as its outcome lists them. */
export interface EscalationListing {
  escalationId: string;
  subtaskId: string;
  attempt: number;
  reason: string;
  /** The decision's kind, or '' while undecided. */
  decision: string;
  decisionReason: string;
  hint?: string;
  subtasks?: string[];
  at: Date;
  /** The failure packet the executor handed over (GetTask shows it; the code activity's output leaves it out). */
  packet?: FailurePacket;
}

/** The listing form of a stored escalation (code activity output, GetTask). */
export function toEscalationListing(record: EscalationRecord): EscalationListing {
  const d = record.decision;
  return {
    escalationId: record.escalationId,
    subtaskId: record.subtaskId,
    attempt: record.attempt,
    reason: record.reason,
    decision: d?.kind ?? '',
    decisionReason: d?.reason ?? '',
    ...(d?.hint !== undefined ? { hint: d.hint } : {}),
    ...(d?.subtasks !== undefined ? { subtasks: d.subtasks } : {}),
    at: record.createdAt,
    packet: record.escalation.packet,
  };
}
