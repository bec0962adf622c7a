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
   * `code` (also when absent): run the agent loop in `repoPath`. `probe`: a canary that goes
   * through the whole executor path (idempotency check, result store, result publish, ack) but
   * does no work, so operators and `bench/queue` can measure the queue without a model; a probe
   * never runs the agent loop nor touches `repoPath`. Optional rather than defaulted, so
   * producers of code work need not name it.
   */
  kind: z.enum(['code', 'probe']).optional(),
  /** Probe only: how long the "work" takes (simulates long work). @default 0 */
  probeWorkMs: z.number().int().min(0).max(60_000).optional(),
  /** Probe only: when true every delivery fails with a retryable error (a poison item for drills). */
  probeFail: z.boolean().optional(),
  /** Probe only: when the producer sent it (epoch ms, fractional allowed), so the result can report pick-up latency. */
  probeSentAt: z.number().nonnegative().optional(),
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
});
export type SubtaskResult = z.infer<typeof SubtaskResultSchema>;

/** `maestro.events.run.*`: a run started, moved, or ended. */
export const RunEventSchema = z.object({
  runId: z.string(),
  definitionName: z.string(),
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  state: z.string(),
  fromState: z.string().optional(),
  eventType: z.string().optional(),
  seq: z.number().int().optional(),
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
  runId: z.string().optional(),
  status: z.string(),
  reason: z.string().optional(),
  at: z.string(),
});
export type TaskEvent = z.infer<typeof TaskEventSchema>;

/** `maestro.events.work.step`: one step of a tactical agent, so people can follow it live. */
export const WorkStepEventSchema = z.object({
  taskId: z.string(),
  runId: z.string(),
  subtaskId: z.string(),
  executorId: z.string(),
  /** The work item's attempt (absent from executors older than this field). */
  attempt: z.number().int().positive().optional(),
  step: z.number().int().nonnegative(),
  kind: z.enum(['model', 'tool', 'verdict']),
  /** Tool name for kind "tool". */
  tool: z.string().optional(),
  /** A short, human-readable account of the step (truncated). */
  summary: z.string(),
  ok: z.boolean(),
  at: z.string(),
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
  costUsd: z.number(),
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
  concerns: z.array(z.string()),
  fencingToken: z.number().int(),
  reason: z.enum(['granted', 'released', 'expired']).optional(),
  at: z.string(),
});
export type LockEvent = z.infer<typeof LockEventSchema>;

/** What a dead-lettered message carries besides its original bytes (in headers). */
export const DeadLetterHeaders = {
  originalSubject: 'Maestro-Original-Subject',
  reason: 'Maestro-Dead-Letter-Reason',
  deliveries: 'Maestro-Deliveries',
} as const;
