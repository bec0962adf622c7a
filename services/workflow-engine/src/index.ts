/**
 * The workflow-engine as a library, for the embedded (one-process) mode and for tests: the
 * engine, its store and NATS adapters, the gRPC handlers and the definition domain. The
 * service itself runs from `main.ts`.
 *
 * @example
 * const engine = createWorkflowEngine({ store: new PostgresRunStore(db), publisher: new NatsRunEventsPublisher(bus), logger });
 * await engine.ensureDefaultDefinitions();
 * await engine.resume();
 * engine.startTimeoutSweep();
 * const run = await engine.startRun({ definitionName: 'coding', input: { taskId } });
 */
export {
  createWorkflowEngine,
  toActivityEvent,
  workIdOf,
  RUN_STATUSES,
  ACTIVITY_REQUEST_UNPUBLISHABLE,
  ACTIVITY_TIMEOUT,
  type WorkflowEngine,
  type ResumeSummary,
  type WorkflowEngineDeps,
  type RunEventsPublisher,
  type RunView,
  type SavedDefinition,
  type StartRunInput,
  type ActivityResultOutcome,
} from './engine.js';
export { EffectQueue, isPermanentPublishError, type Effect, type EffectQueueOptions } from './effect-queue.js';
export { RunChanges, type RunChangeListener } from './run-changes.js';
export { workflowEngineConfigSpec, loadWorkflowEngineConfig, type WorkflowEngineConfig } from './config.js';
export { workflowMigrations, migrateWorkflowSchema, WORKFLOW_SCHEMA } from './store/migrations.js';
export { PostgresRunStore } from './store/postgres-run-store.js';
export type {
  RunStore,
  RunRecord,
  NewRun,
  DefinitionRecord,
  TransitionRecord,
  RunDecision,
  ApplyOutcome,
  ListRunsQuery,
} from './store/run-store.js';
export type { WorkflowDatabase, DefinitionsTable, RunsTable, HistoryTable } from './store/workflow-database.js';
export { createWorkflowHandlers, toRunMessage, toTransitionMessage, toDefinitionMessage, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './transport/grpc/workflow.handler.js';
export {
  startActivityResultSubscriber,
  toUnprocessableResult,
  RESULT_UNPROCESSABLE,
  RESULT_MAX_DELIVER,
  resultBackoffMs,
  type ActivityResultSubscriberOptions,
} from './transport/nats/activity-result.subscriber.js';
export { NatsRunEventsPublisher } from './transport/nats/run-events.publisher.js';
export {
  parseDefinition,
  validateDefinition,
  formatProblems,
  defaultRegistries,
  builtinActions,
  builtinGuards,
  builtinActivities,
  codingDefinition,
  defaultDefinitions,
  startRunMachine,
  applyRunEvent,
  activityOf,
  activityTimeoutOf,
  MAX_ACTIVITY_TIMEOUT_MS,
  isFinished,
  RunStatuses,
  contentHash,
  canonicalJson,
  DefinitionDocumentSchema,
  type DefinitionDocument,
  type DefinitionProblem,
  type DefinitionValidation,
  type Registries,
  type ActionEntry,
  type GuardEntry,
  type ActivityEntry,
  type MachineEvent,
  type RunContext,
  type RunStatus,
  type RunPosition,
  type RunStep,
  type RunnableDefinition,
} from './domain/index.js';
