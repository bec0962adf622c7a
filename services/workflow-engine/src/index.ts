/**
 * The workflow-engine as a library, for the embedded (one-process) mode and for tests: the
 * wired service, the engine with its store port and adapters, and the definition domain. The
 * service itself runs from `main.ts`.
 *
 * @example
 * const service = createWorkflowEngineService({ address: '127.0.0.1:0', logger, db, bus });
 * const port = await service.start();
 * const run = await service.engine.startRun({ definitionName: 'coding', input: { taskId } });
 * await service.stop();
 *
 * @example
 * // Without servers: an engine over the in-memory store.
 * const engine = createWorkflowEngine({ store: new InMemoryRunStore(), publisher, logger });
 */
export { createWorkflowEngineService, WORKFLOW_SERVICE_NAME, type WorkflowEngineService, type WorkflowEngineServiceOptions } from './workflow-engine-service.js';
export {
  createWorkflowEngine,
  engineDefaults,
  RUN_STATUSES,
  type WorkflowEngine,
  type WorkflowEngineDeps,
  type ResumeSummary,
  type SavedDefinition,
  type StartRunInput,
  type ActivityResultOutcome,
  type ListRunsInput,
  type RunPage,
  type HistoryPageView,
  type DefinitionDiffView,
} from './engine.js';
export type { RunView } from './run-watcher.js';
export type { RunEventsPublisher } from './run-events-publisher.js';
export { workflowEngineConfigSpec, loadWorkflowEngineConfig, type WorkflowEngineConfig } from './config.js';
export { workflowMigrations, migrateWorkflowSchema, WORKFLOW_SCHEMA } from './store/migrations.js';
export { PostgresRunStore } from './store/postgres-run-store.js';
export { InMemoryRunStore, type InMemoryRunStoreOptions } from './store/in-memory-run-store.js';
export type { RunStore, RunRecord, NewRun, DefinitionRecord, TransitionRecord, ApplyOutcome, ListRunsQuery, HistoryPage } from './store/run-store.js';
export type { WorkflowDatabase } from './store/workflow-database.js';
export { createWorkflowHandlers, WorkflowRequestLimits } from './transport/grpc/workflow.handler.js';
export { startActivityResultSubscriber, RESULT_UNPROCESSABLE, type ActivityResultSubscriberOptions } from './transport/nats/activity-result.subscriber.js';
export { NatsRunEventsPublisher } from './transport/nats/run-events.publisher.js';
export {
  parseDefinition,
  validateDefinition,
  diffDefinitions,
  defaultRegistries,
  defaultDefinitions,
  codingDefinition,
  explainDefinition,
  EngineFailureCodes,
  ACTIVITY_TIMEOUT,
  ACTIVITY_REQUEST_UNPUBLISHABLE,
  RunStatuses,
  type DefinitionDocument,
  type DefinitionProblem,
  type DefinitionChange,
  type Registries,
  type MachineEvent,
  type RunContext,
  type RunStatus,
  type RunDecision,
} from './domain/index.js';
