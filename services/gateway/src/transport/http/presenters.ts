/**
 * The public JSON shapes of tasks, runs and memories. The gateway writes them out field by
 * field instead of serialising the gRPC messages, so a proto change never silently changes the
 * HTTP API, and timestamps are always ISO-8601 strings (or null).
 */
import type { AgentStep, StepCondensation, StepModelCall, StepRecalledMemory, Run, Subtask, Task, Transition, ModelStats, TaskUsage, UsageTotals } from '@maestro/contracts';

/** A subtask as the HTTP API shows it. */
export interface SubtaskJson {
  id: string;
  title: string;
  instructions: string;
  files: string[];
  status: string;
  summary: string;
  commitSha: string;
  filesChanged: string[];
  failureReason: string;
  /** Ids of the subtasks that must succeed before it starts. */
  dependsOn: string[];
  /** What it declared it needs besides its files (`port:3000`, `resource:db`, `dir:src/gen`). */
  resources: string[];
  /** Its lock-manager concerns; subtasks whose concerns conflict run one after the other. */
  concerns: string[];
  /** The executor that last ran it; '' until one took it. */
  executorId: string;
  /** The git worktree it ran in; '' until one was made. */
  worktree: string;
  /** The test gate's verdict on its last attempt; '' until it ran. */
  verdict: string;
}

/** What became of a task's work (its branch, and whether the user's branch got it). */
export interface TaskDeliveryJson {
  /** `branch` or `fast-forward`. */
  mode: string;
  /** The task branch, `maestro/<taskId>`. */
  branch: string;
  /** The task branch's commit; '' when it does not exist or is not known. */
  sha: string;
  delivered: boolean;
  reason: string;
}

/** A task as the HTTP API shows it. */
export interface TaskJson {
  id: string;
  /** The tenant the task belongs to. */
  tenant: string;
  goal: string;
  repoPath: string;
  testCommand: string[];
  project: string;
  status: string;
  runId: string;
  subtasks: SubtaskJson[];
  failureReason: string;
  reviewSummary: string;
  /**
   * The strategic model's answer, the outcome of a task run on the read-only `explain` workflow
   * (opening `[scripted reply, not a model's answer]` when a script gave it); '' otherwise.
   */
  answer: string;
  /** The limits the task runs under; 0 = no limit. */
  budget: { usd: number; tokens: number };
  /** The goal's classified intent, or null for tasks stored before intents were classified. */
  intent: { intent: string; confidence: number; reason: string } | null;
  workflow: string;
  /** Whose preferences its agents recall besides the project's (`user:<id>`, `team:<id>`), as submitted. */
  memoryScopes: string[];
  escalations: Array<{
    escalationId: string;
    subtaskId: string;
    attempt: number;
    reason: string;
    decision: string;
    decisionReason: string;
    at: string | null;
    /** The failure packet the executor handed over (failure kind, tests, diff, the agent's account); null when not kept. */
    packet: Record<string, unknown> | null;
  }>;
  /** Null until the review decided (or the task failed or was cancelled). */
  delivery: TaskDeliveryJson | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/** One entry of a run's history as the HTTP API shows it. */
export interface TransitionJson {
  seq: number;
  fromState: string;
  toState: string;
  eventType: string;
  event: Record<string, unknown> | null;
  at: string | null;
  /** A note (an escalation raised or decided, recorded by Orion): the run did not move. */
  note: boolean;
}

/** A workflow run as the HTTP API shows it. */
export interface RunJson {
  id: string;
  /** The tenant the run belongs to. */
  tenant: string;
  definitionName: string;
  definitionVersion: number;
  status: string;
  state: string;
  attempt: number;
  context: Record<string, unknown> | null;
  history: TransitionJson[];
  createdAt: string | null;
  updatedAt: string | null;
}

/**
 * One recorded step of a tactical agent as the HTTP API shows it: the fields of the live
 * `work.step` event, so a client handles replayed and live steps alike (`tool` only for kind `tool`).
 */
export interface AgentStepJson {
  taskId: string;
  runId: string;
  subtaskId: string;
  executorId: string;
  step: number;
  kind: string;
  tool?: string;
  summary: string;
  ok: boolean;
  at: string | null;
  /**
   * The work item's attempt the step belongs to; null when unknown (recorded before attempts
   * were, or from an executor that does not send one). A live event without one has no field.
   */
  attempt: number | null;
  /**
   * For kind `recall`: every memory that went into the prompt, in prompt order (an empty list when
   * memory had nothing to give). Absent for other kinds.
   */
  recalled?: RecalledMemoryJson[];
  /** For kind `condensation`: what the condensation did. Absent for other kinds. */
  condensation?: CondensationJson;
  /** For kind `model`: who answered, its tokens and cost; null for other kinds and for steps recorded before calls were. */
  modelCall: StepModelCallJson | null;
  /** How long the step took (the model call, the tool run) in ms; null when not measured. */
  durationMs: number | null;
  /** For kind `tool`: its arguments as JSON text (cut with a marker past 4 KiB); null otherwise. */
  arguments: string | null;
  /** For kind `tool`: what it observed (head and tail past 16 KiB, with a marker); null otherwise. */
  observation: string | null;
}

/** The model call of a `model` step. */
export interface StepModelCallJson {
  /** `gemini`, `deepseek`, `openai`, or `scripted` for a replayed script. */
  provider: string;
  model: string;
  scripted: boolean;
  inputTokens: number;
  /** Input tokens served from the provider's cache (part of `inputTokens`). */
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** USD; 0 and unknown when `priced` is false. */
  usd: number;
  priced: boolean;
}

/** A memory that went into an agent's prompt, as its `recall` step shows it. */
export interface RecalledMemoryJson {
  id: string;
  /** `preference`, `project` or `reflex`. */
  kind: string;
  /** The fused recall score. */
  score: number;
  /** Why it matched ("keyword rank 1; vector rank 2", "pinned"); absent when not said. */
  why?: string;
  /** Its content as it went into the prompt. */
  content: string;
}

/** What one condensation of an agent's context did, as its `condensation` step shows it. */
export interface CondensationJson {
  /** `budget` or `context_too_long`. */
  trigger: string;
  tokensBefore: number;
  tokensAfter: number;
  /** `exact` (the model's tokenizer) or `estimate`. */
  counted: string;
  summarisedMessages: number;
  /** `rule` or `model`. */
  summarisedBy: string;
  /** What was dropped or shortened, in words. */
  dropped: string[];
  pinnedFacts: number;
  /** What a first, rejected condensation lost; absent when none was rejected. */
  rejected?: string;
}

function iso(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}

function toSubtaskJson(subtask: Subtask): SubtaskJson {
  return {
    id: subtask.id,
    title: subtask.title,
    instructions: subtask.instructions,
    files: subtask.files,
    status: subtask.status,
    summary: subtask.summary,
    commitSha: subtask.commitSha,
    filesChanged: subtask.filesChanged,
    failureReason: subtask.failureReason,
    dependsOn: subtask.dependsOn,
    resources: subtask.resources,
    concerns: subtask.concerns,
    executorId: subtask.executorId,
    worktree: subtask.worktree,
    verdict: subtask.verdict,
  };
}

/** Converts the orchestrator's Task message into the public JSON. */
export function toTaskJson(task: Task): TaskJson {
  return {
    id: task.id,
    tenant: task.tenant,
    goal: task.goal,
    repoPath: task.repoPath,
    testCommand: task.testCommand,
    project: task.project,
    status: task.status,
    runId: task.runId,
    subtasks: task.subtasks.map(toSubtaskJson),
    failureReason: task.failureReason,
    reviewSummary: task.reviewSummary,
    answer: task.answer,
    budget: { usd: task.budget?.usd ?? 0, tokens: task.budget?.tokens ?? 0 },
    intent: task.intent === '' ? null : { intent: task.intent, confidence: task.intentConfidence, reason: task.intentReason },
    workflow: task.workflow,
    memoryScopes: [...task.memoryScopes],
    escalations: task.escalations.map((e) => ({
      escalationId: e.escalationId,
      subtaskId: e.subtaskId,
      attempt: e.attempt,
      reason: e.reason,
      decision: e.decision,
      decisionReason: e.decisionReason,
      at: iso(e.at),
      packet: e.packet ?? null,
    })),
    delivery: task.delivery
      ? { mode: task.delivery.mode, branch: task.delivery.branch, sha: task.delivery.sha, delivered: task.delivery.delivered, reason: task.delivery.reason }
      : null,
    createdAt: iso(task.createdAt),
    updatedAt: iso(task.updatedAt),
  };
}

/** Usage totals as the HTTP API shows them. */
export type UsageTotalsJson = Required<UsageTotals>;

function toTotalsJson(totals: UsageTotals | undefined): UsageTotalsJson {
  return {
    calls: totals?.calls ?? 0,
    inputTokens: totals?.inputTokens ?? 0,
    cachedInputTokens: totals?.cachedInputTokens ?? 0,
    outputTokens: totals?.outputTokens ?? 0,
    reasoningTokens: totals?.reasoningTokens ?? 0,
    costUsd: totals?.costUsd ?? 0,
    unpricedCalls: totals?.unpricedCalls ?? 0,
    scriptedCalls: totals?.scriptedCalls ?? 0,
  };
}

/** A task's durable usage: overall, per workflow phase and per model. */
export interface TaskUsageJson {
  total: UsageTotalsJson;
  byPhase: Array<{ phase: string } & UsageTotalsJson>;
  byModel: Array<{ model: string } & UsageTotalsJson>;
}

/** Converts the router's TaskUsage message into the public JSON. */
export function toTaskUsageJson(usage: TaskUsage): TaskUsageJson {
  return {
    total: toTotalsJson(usage.total),
    byPhase: usage.byPhase.map((p) => ({ phase: p.phase, ...toTotalsJson(p.totals) })),
    byModel: usage.byModel.map((m) => ({ model: m.spec, ...toTotalsJson(m.totals) })),
  };
}

/** What a task has spent so far, as the task list shows it. */
export interface TaskCostJson {
  usd: number;
  /** Input plus output tokens, as the budget counts them. */
  tokens: number;
  /** True when some calls used a model without a price (their cost is not in `usd`). */
  unpriced: boolean;
}

/** The short cost summary of a task's usage (the task list's `usage`). */
export function toTaskCostJson(usage: Pick<TaskUsage, 'total'>): TaskCostJson {
  const total = toTotalsJson(usage.total);
  return { usd: total.costUsd, tokens: total.inputTokens + total.outputTokens, unpriced: total.unpricedCalls > 0 };
}

/** Converts the router's ModelStats message into the public JSON. */
export function toModelStatsJson(stats: ModelStats): { stats: Array<Record<string, unknown>> } {
  return {
    stats: stats.stats.map((s) => ({
      model: s.spec,
      phase: s.phase,
      ...toTotalsJson(s.totals),
      failedCalls: s.failedCalls,
      verdicts: s.verdicts,
      successes: s.successes,
      successRate: s.successRate,
      latencyP50Ms: s.latencyP50Ms,
      latencyP99Ms: s.latencyP99Ms,
    })),
  };
}

/** Converts one history entry of a run into the public JSON. */
export function toTransitionJson(transition: Transition): TransitionJson {
  return {
    seq: transition.seq,
    fromState: transition.fromState,
    toState: transition.toState,
    eventType: transition.eventType,
    event: transition.event ?? null,
    at: iso(transition.at),
    note: transition.note === true,
  };
}

/** Converts the workflow-engine's Run message into the public JSON. */
export function toRunJson(run: Run): RunJson {
  return {
    id: run.id,
    tenant: run.tenant,
    definitionName: run.definitionName,
    definitionVersion: run.definitionVersion,
    status: run.status,
    state: run.state,
    attempt: run.attempt,
    context: run.context ?? null,
    history: run.history.map(toTransitionJson),
    createdAt: iso(run.createdAt),
    updatedAt: iso(run.updatedAt),
  };
}

/** Converts the orchestrator's AgentStep message into the public JSON. */
export function toAgentStepJson(step: AgentStep): AgentStepJson {
  return {
    taskId: step.taskId,
    runId: step.runId,
    subtaskId: step.subtaskId,
    executorId: step.executorId,
    step: step.step,
    kind: step.kind,
    ...(step.tool !== '' ? { tool: step.tool } : {}),
    summary: step.summary,
    ok: step.ok,
    at: iso(step.at),
    // proto3 has no null: 0 is the orchestrator's "unknown"; attempts start at 1.
    attempt: step.attempt > 0 ? step.attempt : null,
    // proto3 cannot tell an empty list from none: a recall step always has one.
    ...(step.kind === 'recall' || step.recalled.length > 0 ? { recalled: step.recalled.map(toRecalledMemoryJson) } : {}),
    ...(step.condensation !== undefined ? { condensation: toCondensationJson(step.condensation) } : {}),
    modelCall: step.modelCall !== undefined ? toStepModelCallJson(step.modelCall) : null,
    // proto3 has no null: 0 ms and empty strings are the orchestrator's "none".
    durationMs: step.durationMs > 0 ? step.durationMs : null,
    arguments: step.arguments !== '' ? step.arguments : null,
    observation: step.observation !== '' ? step.observation : null,
  };
}

/** Converts a step's model call into the public JSON. */
export function toStepModelCallJson(call: StepModelCall): StepModelCallJson {
  return {
    provider: call.provider,
    model: call.model,
    scripted: call.scripted,
    inputTokens: call.inputTokens,
    cachedInputTokens: call.cachedInputTokens,
    outputTokens: call.outputTokens,
    reasoningTokens: call.reasoningTokens,
    usd: call.usd,
    priced: call.priced,
  };
}

/** Converts a recalled memory of a step into the public JSON (an empty `why` left out). */
export function toRecalledMemoryJson(memory: StepRecalledMemory): RecalledMemoryJson {
  return { id: memory.id, kind: memory.kind, score: memory.score, ...(memory.why !== '' ? { why: memory.why } : {}), content: memory.content };
}

/** Converts a step's condensation into the public JSON (an empty `rejected` left out). */
export function toCondensationJson(condensation: StepCondensation): CondensationJson {
  return {
    trigger: condensation.trigger,
    tokensBefore: condensation.tokensBefore,
    tokensAfter: condensation.tokensAfter,
    counted: condensation.counted,
    summarisedMessages: condensation.summarisedMessages,
    summarisedBy: condensation.summarisedBy,
    dropped: [...condensation.dropped],
    pinnedFacts: condensation.pinnedFacts,
    ...(condensation.rejected !== '' ? { rejected: condensation.rejected } : {}),
  };
}
