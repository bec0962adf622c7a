/**
 * The NATS subject catalogue: every subject and JetStream stream CodeMaestro uses, declared
 * once. Subjects follow `maestro.<area>.<entity>.<verb>`.
 *
 * - `maestro.work.<queue>.<activity>`: work that must not be lost (JetStream work queue,
 *   explicit ack, bounded redelivery). One durable consumer per queue.
 * - `maestro.results.<kind>`: results of that work (JetStream work queue), consumed by the
 *   service that asked for the work.
 * - `maestro.events.<entity>.<verb>`: facts, for anyone to watch (JetStream, limits retention).
 * - `maestro.escalations.<taskId>`: a tactical agent's failure handed to Orion (JetStream work
 *   queue), answered with a strategic decision.
 * - `maestro.dlq.<original subject>`: work and results that could not be processed.
 */

/** Work queues, each drained by one kind of service through one durable consumer. */
export const WorkQueues = {
  /** Strategic activities performed by Orion (intake, plan, code dispatch, review). */
  orchestrator: 'orchestrator',
  /** Tactical coding subtasks performed by executors. */
  executor: 'executor',
} as const;
export type WorkQueue = (typeof WorkQueues)[keyof typeof WorkQueues];

export const Subjects = {
  /** An activity request for a workflow state, addressed to the queue that performs it. */
  activityRequest: (queue: WorkQueue, activity: string) => `maestro.work.${queue}.${activity}`,
  /** Everything on one work queue (the filter of its durable consumer). */
  workQueue: (queue: WorkQueue) => `maestro.work.${queue}.>`,
  /** A coding subtask for the executors. */
  subtaskWork: 'maestro.work.executor.code',

  /** The outcome of a workflow activity; consumed by the workflow-engine. */
  activityResult: 'maestro.results.activity',
  /** The outcome of a coding subtask; consumed by the orchestrator. */
  subtaskResult: 'maestro.results.subtask',

  /**
   * A failed subtask handed to Orion with its failure packet (instead of a failed result), for a
   * strategic decision: hint, re-plan, take over or abandon.
   */
  escalation: (taskId: string) => `maestro.escalations.${taskId}`,
  /** Every escalation (the filter of Orion's durable consumer). */
  escalations: 'maestro.escalations.>',

  /** A workflow run started. */
  runStarted: 'maestro.events.run.started',
  /** A workflow run moved from one state to another. */
  runTransitioned: 'maestro.events.run.transitioned',
  /** A workflow run reached a final state. */
  runFinished: 'maestro.events.run.finished',
  /** An activity request was published for a state. */
  activityRequested: 'maestro.events.activity.requested',
  /** A task was submitted, changed status, or was cancelled. */
  taskUpdated: 'maestro.events.task.updated',
  /** One step of a tactical agent (model reply, tool call, observation). */
  workStep: 'maestro.events.work.step',
  /** A subtask finished, successfully or not. */
  workFinished: 'maestro.events.work.finished',
  /** Orion accepted an escalation of a failed subtask and is deciding it. */
  escalationRaised: 'maestro.events.escalation.raised',
  /** Orion decided an escalation (or failed the subtask without a decision: limit reached). */
  escalationDecided: 'maestro.events.escalation.decided',
  /** A model completion was made (usage and cost). */
  llmCompleted: 'maestro.events.llm.completed',
  /** A lock lease was granted. */
  lockAcquired: 'maestro.events.lock.acquired',
  /** A lock lease was released by its owner (`LockEvent`, reason 'released'). */
  lockReleased: 'maestro.events.lock.released',
  /** A lock lease expired without being extended (`LockEvent`, reason 'expired'); one event per lease. */
  lockExpired: 'maestro.events.lock.expired',
  /** A lock request joined the queue: who waits, for what, behind whom. */
  lockWaiting: 'maestro.events.lock.waiting',

  /**
   * An API key was revoked (core NATS, between gateways, signed like every live message): every
   * gateway replica re-checks that key's open event streams at once instead of at their next
   * heartbeat. Outside `maestro.events` on purpose: no stream stores it and no viewer sees it.
   */
  keyRevoked: 'maestro.gateway.keys.revoked',

  /** Everything under `maestro.events`. */
  allEvents: 'maestro.events.>',
  /** Dead letter for a subject: where a message goes after it could not be processed. */
  deadLetter: (subject: string) => `maestro.dlq.${subject}`,
} as const;

/** JetStream streams, created idempotently by every service at start (see `@maestro/bus`). */
export const Streams = {
  work: { name: 'MAESTRO_WORK', subjects: ['maestro.work.>'], retention: 'workqueue' },
  results: { name: 'MAESTRO_RESULTS', subjects: ['maestro.results.>'], retention: 'workqueue' },
  escalations: { name: 'MAESTRO_ESCALATIONS', subjects: ['maestro.escalations.>'], retention: 'workqueue' },
  events: { name: 'MAESTRO_EVENTS', subjects: ['maestro.events.>'], retention: 'limits' },
  deadLetter: { name: 'MAESTRO_DLQ', subjects: ['maestro.dlq.>'], retention: 'limits' },
} as const;
export type StreamSpec = (typeof Streams)[keyof typeof Streams];

/** Names of durable consumers, one per consuming service and subject filter. */
export const Consumers = {
  orchestratorWork: 'orchestrator-work',
  executorWork: 'executor-work',
  engineActivityResults: 'workflow-engine-activity-results',
  orchestratorSubtaskResults: 'orchestrator-subtask-results',
  orchestratorRunEvents: 'orchestrator-run-events',
  orchestratorWorkSteps: 'orchestrator-work-steps',
  routerWorkVerdicts: 'router-work-verdicts',
  orchestratorEscalations: 'orchestrator-escalations',
} as const;
