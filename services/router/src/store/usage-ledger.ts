/**
 * The usage ledger port: every model call the router made, durable, so a task's spend can be
 * checked against its budget before the next call and its totals served per phase and model,
 * and so each model's measured success (the verdicts of the subtasks it worked) can steer routing.
 */

/** One model call as recorded (successful or not). */
export interface ModelCallRecord {
  at: Date;
  taskId?: string;
  runId?: string;
  subtaskId?: string;
  /** The subtask attempt the call served (0 = unknown). */
  attempt: number;
  /** The call's intent: plan, code, review, escalate. */
  phase: string;
  role: string;
  /** The spec that answered (a fallback's when one served the call). */
  spec: string;
  scripted: boolean;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** USD; `null` when the model is unpriced (unknown, not free). */
  costUsd: number | null;
  latencyMs: number;
  ok: boolean;
  /** The error code of a failed call. */
  errorCode?: string;
}

/** Usage summed over a set of calls. */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** USD of the priced calls. */
  costUsd: number;
  unpricedCalls: number;
  scriptedCalls: number;
}

/** A task's totals, overall, per phase and per model (spec). */
export interface TaskUsageTotals {
  taskId: string;
  total: UsageTotals;
  byPhase: Array<{ phase: string; totals: UsageTotals }>;
  byModel: Array<{ spec: string; totals: UsageTotals }>;
}

/** What a task has spent so far, for budget checks. */
export interface TaskSpend {
  tokens: number;
  usd: number;
}

/** The verdict of one subtask attempt. */
export interface SubtaskVerdict {
  taskId: string;
  subtaskId: string;
  attempt: number;
  ok: boolean;
  at: Date;
}

/** Measured figures of one model in one phase. */
export interface ModelPhaseStats {
  spec: string;
  phase: string;
  totals: UsageTotals;
  failedCalls: number;
  /** Subtask attempts the model worked on that have a verdict, and how many succeeded. */
  verdicts: number;
  successes: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

/** Where model calls and verdicts are kept. */
export interface UsageLedger {
  /** Records one call. */
  record(call: ModelCallRecord): Promise<void>;
  /** Tokens (input + output) and USD a task has spent. */
  taskSpend(taskId: string): Promise<TaskSpend>;
  /** A task's totals; zero totals for a task with no calls. */
  taskUsage(taskId: string): Promise<TaskUsageTotals>;
  /**
   * The overall totals of several tasks in one read (a task list's cost so far): one entry per
   * distinct id, in the order given; zero totals for a task with no calls.
   */
  taskTotals(taskIds: readonly string[]): Promise<Array<{ taskId: string; total: UsageTotals }>>;
  /** Records a subtask attempt's verdict; a repeat of the same attempt keeps the first. */
  recordVerdict(verdict: SubtaskVerdict): Promise<void>;
  /** Figures per model and phase, optionally for one phase, ordered by spec then phase. */
  modelStats(phase?: string): Promise<ModelPhaseStats[]>;
}

/** Totals of nothing. */
export function emptyTotals(): UsageTotals {
  return { calls: 0, inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0, costUsd: 0, unpricedCalls: 0, scriptedCalls: 0 };
}
