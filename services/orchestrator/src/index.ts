/**
 * Orion, the orchestrator service, as a library: for `main.ts`, for the embedded
 * all-in-one process, and for tests that run Orion against real servers.
 *
 * @example
 * import { createOrchestrator, PostgresTaskStore, PostgresAgentStepStore, FsRepoProbe, } from '@maestro/orchestrator';
 * const orchestrator = createOrchestrator({ logger, clock: systemClock, store: new PostgresTaskStore(db), steps: new PostgresAgentStepStore(db),
 *   repoProbe: new FsRepoProbe(), bus, router: router.call, memory: memory.call,
 *   workflow: workflow.call, grpcAddress: config.grpcAddr, drainTimeoutMs: config.drainTimeoutMs });
 * await orchestrator.start();
 */
export { createOrchestrator, type Orchestrator, type OrchestratorDeps } from './orchestrator.js';
export { loadOrchestratorConfig, orchestratorConfigSpec, type OrchestratorConfig } from './config.js';
export { orchestratorMigrations } from './store/migrations.js';
export { ORCHESTRATOR_SCHEMA, type OrchestratorDatabase } from './store/schema.js';
export { PostgresTaskStore } from './store/postgres-task-store.js';
export { PostgresAgentStepStore } from './store/postgres-agent-step-store.js';
export { StepRecordOutcomes, type AgentStepStore, type StepRecordOutcome } from './store/agent-step-store.js';
export { AgentStepLimits, type AgentStepRecord, type StoredAgentStep } from './domain/agent-step.js';
export { pruneAgentSteps, StepRetention, StepRetentionDefaults, type StepRetentionOptions } from './app/step-retention.js';
export { WORK_STEPS_CONSUMER } from './transport/nats/work-steps.subscriber.js';
export { FsRepoProbe, type FsRepoProbeOptions } from './store/fs-repo-probe.js';
export type { TaskStore, LockedTask } from './store/task-store.js';
export type { MemoryPort, PortCallOptions, RouterPort, TaskEvents, WorkflowPort, WorkPublisher } from './domain/ports.js';
export type { GitWorkTreeInfo, PathKind, RepoProbe } from './domain/repo-probe.js';
export { PLAN_REPLY_FORMAT, REVIEW_REPLY_FORMAT } from './domain/prompts.js';
