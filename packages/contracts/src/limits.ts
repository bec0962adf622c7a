/**
 * Size limits of a coding task, declared once: the gateway checks them on the HTTP edge (fast
 * 400s with a schema) and the orchestrator checks them again on SubmitTask / CancelTask (gRPC
 * callers skip the gateway). Both read these numbers, so the two can never disagree.
 */

/** The largest values a task's fields may have; every count is in characters unless it says otherwise. */
export const TaskLimits = {
  /** Longest goal, after trimming; a longer brief belongs in a file in the repository. */
  goalMaxChars: 10_000,
  /** Longest repository path. */
  repoPathMaxChars: 4_096,
  /** Most argv elements of a test command. */
  testCommandMaxArgs: 64,
  /** Longest single argv element of a test command. */
  testCommandArgMaxChars: 4_096,
  /** Longest project name. */
  projectMaxChars: 200,
  /** Longest idempotency key. */
  idempotencyKeyMaxChars: 200,
  /** Longest reason given when cancelling a task. */
  cancelReasonMaxChars: 2_000,
  /** Longest workflow definition name a task may ask for. */
  workflowMaxChars: 64,
  /** Longest goal search of a task list (ListTasks `goal_contains`, the gateway's `q`). */
  goalContainsMaxChars: 500,
} as const;

/**
 * What a workflow definition may be called (the workflow-engine's rule for definition and state
 * names: safe as an XState key and in a NATS subject), as JSON-schema pattern text; the engine,
 * the gateway and SubmitTask all check names against it.
 */
export const WORKFLOW_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';
