/**
 * Payload schemas for everything that crosses NATS. Each schema is the single definition of
 * its message: producers build the inferred type, consumers parse with the schema, and a
 * message that fails parsing is dead-lettered rather than crashing anyone.
 *
 * @example
 * const req = ActivityRequestSchema.parse(JSON.parse(text));
 */
import { z } from 'zod';

const json = z.record(z.string(), z.unknown());

/** A request to perform the activity of a workflow state. At-least-once; dedupe on workId. */
export const ActivityRequestSchema = z.object({
  /** `${runId}:${state}:${attempt}`: the same for every redelivery of this request. */
  workId: z.string().min(1),
  runId: z.string().min(1),
  state: z.string().min(1),
  activity: z.string().min(1),
  attempt: z.number().int().positive(),
  /** The run's context when the state was entered (input, outputs of earlier activities). */
  context: json,
  requestedAt: z.string(),
});
export type ActivityRequest = z.infer<typeof ActivityRequestSchema>;

/** The outcome of an activity. A result whose (runId, state, attempt) is stale is ignored. */
export const ActivityResultSchema = z.object({
  workId: z.string().min(1),
  runId: z.string().min(1),
  state: z.string().min(1),
  activity: z.string().min(1),
  attempt: z.number().int().positive(),
  ok: z.boolean(),
  /** Merged into the run's context under `outputs.<state>` when ok. */
  output: json.optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  finishedAt: z.string(),
});
export type ActivityResult = z.infer<typeof ActivityResultSchema>;

/** A coding subtask for an executor. */
export const SubtaskWorkSchema = z.object({
  /** `${subtaskId}:${attempt}`. */
  workId: z.string().min(1),
  taskId: z.string().min(1),
  runId: z.string().min(1),
  subtaskId: z.string().min(1),
  attempt: z.number().int().positive(),
  goal: z.string(),
  title: z.string(),
  instructions: z.string(),
  files: z.array(z.string()),
  repoPath: z.string().min(1),
  testCommand: z.array(z.string()),
  project: z.string(),
  /**
   * The task's tenant: the executor recalls memories within it. Absent on work published before
   * tenants existed, which belongs to `default`.
   */
  tenant: z.string().optional(),
  /**
   * Whose preferences apply besides the project's (`user:<id>`, `team:<id>`), as the task was
   * submitted with them: the executor recalls from these and `project`. Absent means none.
   */
  memoryScopes: z.array(z.string()).optional(),
  /**
   * `code` (also when absent): run the agent loop in `repoPath`. `probe`: a canary that goes
   * through the whole executor path (idempotency check, result store, result publish, ack) but
   * does no work, so operators and `bench/queue` can measure the queue without a model; a probe
   * never runs the agent loop nor touches `repoPath`. Optional rather than defaulted, so
   * producers of code work need not name it.
   */
  kind: z.enum(['code', 'probe']).optional(),
  /** The task's model budget (0 = no limit); the router refuses calls once the task has spent it. */
  budget: z.object({ usd: z.number().nonnegative(), tokens: z.number().int().nonnegative() }).optional(),
  /** The task's classified intent, which the routing policy may route by. */
  taskIntent: z.string().optional(),
  /** Probe only: how long the "work" takes (simulates long work). @default 0 */
  probeWorkMs: z.number().int().min(0).max(60_000).optional(),
  /** Probe only: when true every delivery fails with a retryable error (a poison item for drills). */
  probeFail: z.boolean().optional(),
  /** Probe only: when the producer sent it (epoch ms, fractional allowed), so the result can report pick-up latency. */
  probeSentAt: z.number().nonnegative().optional(),
  /**
   * Orion's hint after an earlier attempt of this subtask escalated: shown to the agent with the
   * subtask, so the new attempt does not repeat the mistake.
   */
  hint: z.string().max(20_000).optional(),
  /**
   * Which model works the subtask: `tactical` (also when absent) or `strategic`, when Orion took
   * the subtask over after an escalation (the executor asks the router with that role).
   */
  role: z.enum(['tactical', 'strategic']).optional(),
  /**
   * The concerns Orion declared for the subtask, as lock-manager concerns on the task's
   * repository (`file:/repo/src/a.ts`, `dir:/repo/src`, `port:3000`, `resource:db`). The
   * executor holds them as one lease while the agent works; anything else it touches it
   * acquires when it needs it.
   */
  concerns: z.array(z.string().min(1)).max(100).optional(),
  /**
   * The task's branch, which subtasks branch from and merge into; never the user's branch.
   * @default `maestro/<taskId>`
   */
  taskBranch: z.string().min(1).optional(),
  /**
   * Tests that already failed before any agent touched the repository (phase zero's baseline
   * run of the test command): a test run whose only failures are these is not blamed on the agent.
   */
  baselineFailures: z.array(z.string()).max(1_000).optional(),
  /** How the baseline run exited when it failed: a run excused by `baselineFailures` must exit the same way. */
  baselineExitCode: z.number().int().min(1).max(255).optional(),
});
export type SubtaskWork = z.infer<typeof SubtaskWorkSchema>;

/** The outcome of a coding subtask, with its evidence. */
export const SubtaskResultSchema = z.object({
  workId: z.string().min(1),
  taskId: z.string().min(1),
  runId: z.string().min(1),
  subtaskId: z.string().min(1),
  attempt: z.number().int().positive(),
  ok: z.boolean(),
  summary: z.string(),
  filesChanged: z.array(z.string()),
  commitSha: z.string().optional(),
  /** The repository's test command and how it ended, when it was run. */
  tests: z
    .object({ command: z.array(z.string()), exitCode: z.number().int().nullable(), passed: z.boolean(), outputTail: z.string() })
    .optional(),
  failureReason: z.string().optional(),
  executorId: z.string(),
  steps: z.number().int().nonnegative(),
  finishedAt: z.string(),
  /** The git worktree the attempt worked in (removed after the attempt; kept for the record). */
  worktree: z.string().optional(),
  /** Where the subtask's commit landed: the task branch and its tip after the merge. */
  merged: z.object({ branch: z.string(), sha: z.string() }).optional(),
  /**
   * On a success: the first failed test run of the attempt, which the agent got past on its own
   * retry (the failing tests it named, the output's tail, the exit code). Orion learns a
   * low-confidence reflex from it. Absent when the first run passed.
   */
  recoveredFrom: z
    .object({ failingTests: z.array(z.string()).max(20), outputTail: z.string().max(4_000), exitCode: z.number().int().nullable() })
    .optional(),
});
export type SubtaskResult = z.infer<typeof SubtaskResultSchema>;

/** Why a tactical agent gave up on a subtask, as its escalation reports it. */
export const FailureKinds = {
  /** It declared the work done but the tests stayed red. */
  testsFailed: 'tests_failed',
  /** It went round in circles (the same action and observation again and again). */
  stuck: 'stuck',
  /** It used up the subtask's budget (steps, time or tokens). */
  budgetExhausted: 'budget_exhausted',
  /** Its replies could not be read (edits or tool calls that never parsed). */
  unparseable: 'unparseable',
  /** Its loop ended failed otherwise (a model call the router refused). */
  failed: 'failed',
} as const;
export type FailureKind = (typeof FailureKinds)[keyof typeof FailureKinds];

/**
 * The evidence of a failed subtask attempt, for the strategic model: what the agent did, how it
 * ended and what it spent. Long texts are trimmed by the executor (the diff and the test output
 * to a token budget), so the packet fits in a prompt.
 */
export const FailurePacketSchema = z.object({
  reason: z.enum(FailureKinds),
  /** The subtask as the agent was given it. */
  subtask: z.object({ title: z.string(), instructions: z.string(), files: z.array(z.string()), hint: z.string().optional() }),
  /** The agent's test runs in this attempt (each time it declared the work done), in order. */
  attempts: z.array(z.object({ step: z.number().int().nonnegative(), summary: z.string(), ok: z.boolean() })),
  /** Model turns taken. */
  steps: z.number().int().nonnegative(),
  /** `git diff` of the files the agent changed, against where it started (trimmed). */
  lastDiff: z.string(),
  /** The end of the last failing test run (trimmed to a token budget); empty when none ran. */
  failingTestOutput: z.string(),
  /** The agent's own account: its last words and the loop's reason for stopping. */
  agentAccount: z.string(),
  filesChanged: z.array(z.string()),
  tokensSpent: z.object({ input: z.number().int().nonnegative(), output: z.number().int().nonnegative() }),
});
export type FailurePacket = z.infer<typeof FailurePacketSchema>;

/**
 * `maestro.escalations.<taskId>`: a failed subtask attempt handed to Orion instead of a failed
 * result. `escalationId` is the failed work item's `workId` (also the message id), so a
 * redelivery or a re-published copy is recognised. `result` is the failed result the escalation
 * stands for: Orion records it when it fails the subtask without a new attempt.
 */
export const EscalationSchema = z.object({
  escalationId: z.string().min(1),
  taskId: z.string().min(1),
  runId: z.string().min(1),
  subtaskId: z.string().min(1),
  attempt: z.number().int().positive(),
  executorId: z.string(),
  raisedAt: z.string(),
  packet: FailurePacketSchema,
  result: SubtaskResultSchema,
}).superRefine((escalation, ctx) => {
  // The failed result must be the one this escalation stands for, or recording it would touch another subtask.
  for (const key of ['taskId', 'runId', 'subtaskId', 'attempt'] as const) {
    if (escalation.result[key] !== escalation[key]) {
      ctx.addIssue({ code: 'custom', path: ['result', key], message: `must equal the escalation's ${key}`, input: escalation.result[key] });
    }
  }
  if (escalation.result.workId !== escalation.escalationId) {
    ctx.addIssue({ code: 'custom', path: ['result', 'workId'], message: 'must equal the escalationId', input: escalation.result.workId });
  }
  if (escalation.result.ok) ctx.addIssue({ code: 'custom', path: ['result', 'ok'], message: 'must be false: an escalation stands for a failure', input: true });
});
export type Escalation = z.infer<typeof EscalationSchema>;

/** `maestro.events.escalation.raised`: Orion accepted an escalation and asks the strategic model. */
export const EscalationRaisedEventSchema = z.object({
  escalationId: z.string(),
  taskId: z.string(),
  runId: z.string(),
  subtaskId: z.string(),
  attempt: z.number().int(),
  executorId: z.string(),
  reason: FailurePacketSchema.shape.reason,
  /** A short account of the failure (truncated). */
  summary: z.string(),
  at: z.string(),
});
export type EscalationRaisedEvent = z.infer<typeof EscalationRaisedEventSchema>;

/**
 * `maestro.events.escalation.decided`: what became of an escalation. `fail` means Orion failed the
 * subtask without a strategic decision (the escalation limit was reached, or the model gave no
 * usable decision); the other four are the strategic model's choice.
 */
export const EscalationDecidedEventSchema = z.object({
  escalationId: z.string(),
  taskId: z.string(),
  runId: z.string(),
  subtaskId: z.string(),
  attempt: z.number().int(),
  decision: z.enum(['hint', 'replan', 'takeover', 'abandon', 'fail']),
  reason: z.string(),
  hint: z.string().optional(),
  /** The new subtasks' ids, for `replan`. */
  subtasks: z.array(z.string()).optional(),
  at: z.string(),
});
export type EscalationDecidedEvent = z.infer<typeof EscalationDecidedEventSchema>;

/** `maestro.events.run.*`: a run started, moved, or ended. */
export const RunEventSchema = z.object({
  runId: z.string(),
  /** The tenant the run belongs to; the gateway shows a tenant only its own runs' events. */
  tenant: z.string().optional(),
  definitionName: z.string(),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  state: z.string(),
  fromState: z.string().optional(),
  eventType: z.string().optional(),
  seq: z.number().int().optional(),
  /** A `run.transitioned` that is a note (RecordRunNote): recorded in the history, the run did not move. */
  note: z.boolean().optional(),
  /** The input the run was started with (carries the taskId for coding runs). */
  input: json.optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  at: z.string(),
});
export type RunEvent = z.infer<typeof RunEventSchema>;

/** `maestro.events.activity.requested`. */
export const ActivityRequestedEventSchema = z.object({
  runId: z.string(),
  state: z.string(),
  activity: z.string(),
  attempt: z.number().int(),
  at: z.string(),
});
export type ActivityRequestedEvent = z.infer<typeof ActivityRequestedEventSchema>;

/** `maestro.events.task.updated`. */
export const TaskEventSchema = z.object({
  taskId: z.string(),
  /** The tenant the task belongs to; the gateway shows a tenant only its own tasks' events. */
  tenant: z.string().optional(),
  runId: z.string().optional(),
  status: z.string(),
  reason: z.string().optional(),
  at: z.string(),
});
export type TaskEvent = z.infer<typeof TaskEventSchema>;

/** A memory an agent was given in its prompt, as recorded on the step that recalled it. */
export const RecalledMemorySchema = z.object({
  id: z.string(),
  kind: z.string(),
  /** The fused recall score. */
  score: z.number(),
  /** Why it matched ("keyword rank 1; vector rank 2", "pinned"). */
  why: z.string().optional(),
  /** Its content as it went into the prompt (cut to the prompt's memory budget). */
  content: z.string(),
});
export type RecalledMemory = z.infer<typeof RecalledMemorySchema>;

/** What one condensation of an agent's context did (a step of kind `condensation`). */
export const CondensationSchema = z.object({
  /** Why it ran: the request grew past its budget, or the provider said the context was too long. */
  trigger: z.enum(['budget', 'context_too_long']),
  tokensBefore: z.number().int().nonnegative(),
  tokensAfter: z.number().int().nonnegative(),
  /** `exact`: counted with the model's own tokenizer; `estimate`: with o200k_base for a model whose tokenizer we do not have. */
  counted: z.enum(['exact', 'estimate']),
  /** Messages summarised into the condensed prefix. */
  summarisedMessages: z.number().int().nonnegative(),
  /** `model`: summarised by the tactical model; `rule`: by rule. */
  summarisedBy: z.enum(['rule', 'model']),
  /** What was dropped or shortened, in words ("fs.read src/a.ts (superseded by a later read)"). */
  dropped: z.array(z.string()),
  /** Pinned facts carried, all verbatim (checked). */
  pinnedFacts: z.number().int().nonnegative(),
  /** Set when a first condensation lost a pinned fact and a safer one was used instead: what was lost. */
  rejected: z.string().optional(),
});
export type Condensation = z.infer<typeof CondensationSchema>;

/**
 * How much of a tool step's arguments and observation a `work.step` event carries. The executor
 * cuts longer texts (the arguments at the end, the observation in the middle, keeping its head
 * and tail) and marks the cut, so a viewer can tell a cut text from a whole one.
 */
export const WorkStepLimits = {
  /** Characters of a tool call's arguments (JSON text) kept. */
  argumentsChars: 4 * 1024,
  /** Characters of a tool's observation kept, head and tail together. */
  observationChars: 16 * 1024,
} as const;

/** The model call of a `model` step: who answered and what it cost, as the router reported it. */
export const WorkStepModelCallSchema = z.object({
  /** `gemini`, `deepseek`, `openai`, or `scripted` for a replayed script. */
  provider: z.string(),
  model: z.string(),
  /** True when a script, not a model, replied. */
  scripted: z.boolean(),
  /** Input tokens, cached ones included. */
  inputTokens: z.number().int().nonnegative(),
  /** Input tokens served from the provider's prompt cache. */
  cachedInputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  reasoningTokens: z.number().int().nonnegative(),
  /** USD; 0 when `priced` is false (unknown, not free). */
  usd: z.number().nonnegative(),
  /** False when the router has no price for the model. */
  priced: z.boolean(),
});
export type WorkStepModelCall = z.infer<typeof WorkStepModelCallSchema>;

/** `maestro.events.work.step`: one step of a tactical agent, so people can follow it live. */
export const WorkStepEventSchema = z.object({
  taskId: z.string(),
  runId: z.string(),
  subtaskId: z.string(),
  executorId: z.string(),
  /** The work item's attempt (absent from executors older than this field). */
  attempt: z.number().int().positive().optional(),
  step: z.number().int().nonnegative(),
  /** `recall`: memories put in the agent's prompt (`recalled`); `condensation`: its context condensed (`condensation`). */
  kind: z.enum(['model', 'tool', 'verdict', 'recall', 'condensation']),
  /** Tool name for kind "tool". */
  tool: z.string().optional(),
  /** A short, human-readable account of the step (truncated). */
  summary: z.string(),
  ok: z.boolean(),
  at: z.string(),
  /** For kind `recall`: every memory that went into the prompt. */
  recalled: z.array(RecalledMemorySchema).optional(),
  /** For kind `condensation`. */
  condensation: CondensationSchema.optional(),
  /** For kind `model`: the call behind it (absent from executors older than this field). */
  modelCall: WorkStepModelCallSchema.optional(),
  /** How long the step took (the model call, the tool run), in milliseconds; absent when not measured. */
  durationMs: z.number().int().nonnegative().optional(),
  /** For kind `tool`: its arguments as JSON text, cut to {@link WorkStepLimits.argumentsChars} with a marker. */
  arguments: z.string().optional(),
  /** For kind `tool`: what it observed, cut to head and tail ({@link WorkStepLimits.observationChars}) with a marker. */
  observation: z.string().optional(),
  /** For kind `tool`: marks for a person, e.g. `ci-config-changed` (the call changed CI configuration). */
  flags: z.array(z.string().max(64)).max(8).optional(),
});
export type WorkStepEvent = z.infer<typeof WorkStepEventSchema>;

/** `maestro.events.work.finished`. */
export const WorkFinishedEventSchema = SubtaskResultSchema.pick({
  taskId: true,
  runId: true,
  subtaskId: true,
  attempt: true,
  ok: true,
  summary: true,
  filesChanged: true,
  commitSha: true,
  failureReason: true,
  executorId: true,
  finishedAt: true,
});
export type WorkFinishedEvent = z.infer<typeof WorkFinishedEventSchema>;

/** `maestro.events.llm.completed`: usage and cost of one completion. */
export const LlmCompletedEventSchema = z.object({
  role: z.string(),
  intent: z.string(),
  provider: z.string(),
  model: z.string(),
  scripted: z.boolean(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cachedInputTokens: z.number().int().optional(),
  reasoningTokens: z.number().int().optional(),
  costUsd: z.number(),
  /** False when the model has no price: `costUsd` is unknown, not 0. Absent from older routers. */
  priced: z.boolean().optional(),
  /** The spec that answered when a fallback served the call. */
  servedBy: z.string().optional(),
  durationMs: z.number(),
  taskId: z.string().optional(),
  runId: z.string().optional(),
  subtaskId: z.string().optional(),
  at: z.string(),
});
export type LlmCompletedEvent = z.infer<typeof LlmCompletedEventSchema>;

/** `maestro.events.lock.acquired` / `.released`. */
export const LockEventSchema = z.object({
  leaseId: z.string(),
  owner: z.string(),
  /** Held exclusively. */
  concerns: z.array(z.string()),
  /** Held in shared (read) mode; absent in events of older lock-managers. */
  sharedConcerns: z.array(z.string()).default([]),
  fencingToken: z.number().int(),
  reason: z.enum(['granted', 'released', 'expired']).optional(),
  at: z.string(),
});
export type LockEvent = z.infer<typeof LockEventSchema>;

/** `maestro.events.lock.waiting`: a lock request joined the queue, and what it waits behind. */
export const LockWaitingEventSchema = z.object({
  /** Becomes the lease id if the request is granted. */
  requestId: z.string(),
  owner: z.string(),
  concerns: z.array(z.string()),
  sharedConcerns: z.array(z.string()),
  /** ISO times, by the lock store's clock. */
  queuedAt: z.string(),
  deadline: z.string(),
  /** A live lease, or a request queued earlier (`queued: true`). */
  blockedBy: z.object({
    owner: z.string(),
    leaseId: z.string(),
    concern: z.string(),
    heldConcern: z.string(),
    heldMode: z.string(),
    queued: z.boolean(),
  }),
  at: z.string(),
});
export type LockWaitingEvent = z.infer<typeof LockWaitingEventSchema>;

/** What a dead-lettered message carries besides its original bytes (in headers). */
export const DeadLetterHeaders = {
  originalSubject: 'Maestro-Original-Subject',
  reason: 'Maestro-Dead-Letter-Reason',
  deliveries: 'Maestro-Deliveries',
} as const;

/** `maestro.gateway.keys.revoked`: which key a gateway revoked, so the others re-check its open streams. */
export const KeyRevokedSchema = z.object({
  keyId: z.string().min(1),
  tenant: z.string(),
  revokedAt: z.string(),
});
export type KeyRevoked = z.infer<typeof KeyRevokedSchema>;
