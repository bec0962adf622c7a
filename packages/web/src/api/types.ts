/**
 * The JSON the gateway's public HTTP API returns, as the viewer reads it (see the gateway's
 * `presenters.ts` and README). Only what the viewer uses is declared; everything else passes through.
 */

/** Usage totals of one phase, one model or the whole task. */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costUsd: number;
  unpricedCalls: number;
  scriptedCalls: number;
}

/** A task's usage from the router's ledger. */
export interface TaskUsage {
  total: UsageTotals;
  byPhase: Array<{ phase: string } & UsageTotals>;
  byModel: Array<{ model: string } & UsageTotals>;
}

/** The short usage a task carries in the task list: cost so far. */
export interface ListUsage {
  usd: number;
  tokens: number;
  unpriced: boolean;
}

/** A subtask of a task. */
export interface Subtask {
  id: string;
  title: string;
  instructions: string;
  files: string[];
  status: string;
  summary: string;
  commitSha: string;
  filesChanged: string[];
  failureReason: string;
  dependsOn: string[];
  concerns: string[];
  executorId?: string;
  worktree?: string;
  verdict?: string;
}

/** An escalation of a subtask and Orion's decision. */
export interface TaskEscalation {
  escalationId: string;
  subtaskId: string;
  attempt: number;
  reason: string;
  decision: string;
  decisionReason: string;
  at: string | null;
  /** The failure packet the agent handed over (failure kind, failing output, diff, its account); null when not kept. */
  packet?: Record<string, unknown> | null;
}

/** A task as `GET /v1/tasks/:id` and the list return it. */
export interface Task {
  id: string;
  goal: string;
  repoPath: string;
  project: string;
  status: string;
  runId: string;
  subtasks: Subtask[];
  failureReason: string;
  reviewSummary: string;
  /**
   * The answer of a task run on the read-only `explain` workflow, its outcome (opening with
   * `[scripted reply, not a model's answer]` when a script gave it: lib/task-answer); '' for every other task.
   */
  answer: string;
  workflow: string;
  escalations: TaskEscalation[];
  createdAt: string | null;
  updatedAt: string | null;
  /** Full usage on `GET /v1/tasks/:id`; the short form (or null) in the list. */
  usage?: TaskUsage | ListUsage | null;
}

/** One entry of a run's history. */
export interface Transition {
  seq: number;
  fromState: string;
  toState: string;
  eventType: string;
  event: Record<string, unknown> | null;
  at: string | null;
  /** A note (an escalation raised or decided): recorded in the history, the run did not move. */
  note?: boolean;
}

/** A memory that went into an agent's prompt. */
export interface RecalledMemory {
  id: string;
  kind: string;
  score: number;
  why?: string;
  content: string;
}

/** What one condensation did. */
export interface Condensation {
  trigger: string;
  tokensBefore: number;
  tokensAfter: number;
  counted: string;
  summarisedMessages: number;
  summarisedBy: string;
  dropped: string[];
  pinnedFacts: number;
  rejected?: string;
}

/** One recorded (or live) step of an agent; the fields of the `work.step` event. */
export interface AgentStep {
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
  attempt?: number | null;
  recalled?: RecalledMemory[];
  condensation?: Condensation;
  /** For a model step: who answered, tokens and cost (null or absent for other steps and old records). */
  modelCall?: StepModelCall | null;
  /** How long the step took in ms (null or absent when not measured). */
  durationMs?: number | null;
  /** For a tool step: its arguments as JSON text (cut with a marker when long). */
  arguments?: string | null;
  /** For a tool step: what it observed (head and tail with a marker when long). */
  observation?: string | null;
}

/** The model call a model step records. */
export interface StepModelCall {
  provider: string;
  model: string;
  scripted: boolean;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  usd: number;
  priced: boolean;
}

/** A workflow run. */
export interface Run {
  id: string;
  definitionName: string;
  definitionVersion: number;
  status: string;
  state: string;
  attempt: number;
  context: Record<string, unknown> | null;
  history?: Transition[];
  steps?: AgentStep[];
  stepsNextAfter?: string;
  stepsUnavailable?: boolean;
  createdAt: string | null;
  updatedAt: string | null;
}

/** A stored workflow definition (one version). */
export interface DefinitionVersion {
  name: string;
  version: number;
  createdAt: string | null;
  definition: Record<string, unknown>;
}

/** A lock lease held now. */
export interface Lease {
  leaseId: string;
  owner: string;
  concerns: string[];
  sharedConcerns: string[];
  fencingToken: string;
  expiresAt: string | null;
}

/** A lock request waiting in the queue. */
export interface LockWaiter {
  requestId: string;
  owner: string;
  concerns: string[];
  sharedConcerns: string[];
  queuedAt: string | null;
  deadline: string | null;
}

/** `GET /v1/locks`. */
export interface LockTable {
  leases: Lease[];
  waiters: LockWaiter[];
}

/** `maestro.events.llm.completed`: usage and cost of one completion. */
export interface LlmCompleted {
  role: string;
  intent: string;
  provider: string;
  model: string;
  scripted: boolean;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
  costUsd: number;
  priced?: boolean;
  durationMs: number;
  taskId?: string;
  runId?: string;
  subtaskId?: string;
  at: string;
}

/** `maestro.events.escalation.raised` / `.decided`, merged by escalation id. */
export interface EscalationEvent {
  escalationId: string;
  subtaskId: string;
  attempt: number;
  reason?: string;
  summary?: string;
  decision?: string;
  decisionReason?: string;
  hint?: string;
  at: string;
}
