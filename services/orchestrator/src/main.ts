/**
 * The orchestrator process: config → logger/telemetry → database, bus and gRPC clients →
 * Orion → serving. No logic here; see `orchestrator.ts`.
 */
import { busSigningFrom, connectBus } from '@maestro/bus';
import { MemoryServiceClient, RouterServiceClient, WorkflowServiceClient } from '@maestro/contracts';
import { createDb } from '@maestro/db';
import { createCommandPolicy, createSandboxFromSettings, parseCommandPrefixes, toPrefixRules } from '@maestro/agent';
import { compileTransportSecurity, createGrpcClient, createLogger, initTelemetry, processRegistry, runService, serveMetrics, systemClock } from '@maestro/runtime';
import { loadOrchestratorConfig } from './config.js';
import { createOrchestratorMetrics, instrumentOrchestratorDeps, trackUnfinishedTasks } from './metrics.js';
import { createOrchestrator } from './orchestrator.js';
import { FsRepoProbe } from './store/fs-repo-probe.js';
import { PostgresAgentStepStore } from './store/postgres-agent-step-store.js';
import { PostgresTaskStatusCounts } from './store/postgres-task-status-counts.js';
import { PostgresTaskStore } from './store/postgres-task-store.js';
import { PostgresTaskTraceStore } from './store/postgres-task-trace-store.js';
import type { OrchestratorDatabase } from './store/schema.js';

runService('orchestrator', async (lifecycle) => {
  const config = loadOrchestratorConfig();
  const security = compileTransportSecurity(config);
  const logger = createLogger({ service: 'orchestrator', level: config.logLevel });
  lifecycle.setLogger(logger);
  const telemetry = initTelemetry({ serviceName: 'orchestrator', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());

  const db = createDb<OrchestratorDatabase>({ url: config.databaseUrl, applicationName: 'orchestrator', logger });
  lifecycle.onShutdown('database', () => db.destroy());

  const bus = await connectBus({ url: config.natsUrl, name: 'orchestrator', logger, namespace: config.natsNamespace, signing: busSigningFrom(config) });
  lifecycle.onShutdown('bus', () => bus.close());
  await bus.ensureStreams();

  const workflow = createGrpcClient(WorkflowServiceClient, config.workflowEngineAddr, { deadlineMs: config.rpcDeadlineMs, security });
  const router = createGrpcClient(RouterServiceClient, config.routerAddr, { deadlineMs: config.modelDeadlineMs, security });
  const memory = createGrpcClient(MemoryServiceClient, config.memoryAddr, { deadlineMs: config.rpcDeadlineMs, security });
  lifecycle.onShutdown('grpc clients', () => {
    workflow.close();
    router.close();
    memory.close();
  });

  const metrics = createOrchestratorMetrics();
  trackUnfinishedTasks(processRegistry(), new PostgresTaskStatusCounts(db), metrics, { logger });
  const orchestrator = createOrchestrator(instrumentOrchestratorDeps({
    logger,
    clock: systemClock,
    store: new PostgresTaskStore(db),
    steps: new PostgresAgentStepStore(db),
    taskTraces: new PostgresTaskTraceStore(db),
    repoProbe: new FsRepoProbe(),
    bus,
    // Model calls and recalls take the activity's signal: cancelled when the drain time is up.
    router: router.call,
    memory: memory.call,
    workflow: workflow.call,
    grpcAddress: config.grpcAddr,
    security,
    healthPort: config.grpcHealthPort,
    concurrency: config.concurrency,
    workflowDeadlineMs: config.rpcDeadlineMs,
    drainTimeoutMs: config.drainTimeoutMs,
    defaultBudget: { usd: config.taskBudgetUsd, tokens: config.taskBudgetTokens },
    repoRoots: config.repoRoots,
    tenantRepoRoots: config.tenantRepoRoots,
    sandbox: await createSandboxFromSettings(config, logger),
    commandPolicy: createCommandPolicy({
      allow: toPrefixRules(parseCommandPrefixes(config.commandAllow), 'MAESTRO_COMMAND_ALLOW'),
      deny: toPrefixRules(parseCommandPrefixes(config.commandDeny), 'MAESTRO_COMMAND_DENY'),
    }),
    inlineStartMs: config.inlineStartMs,
    stepRetentionDays: config.stepRetentionDays,
    activityOptions: {
      modelDeadlineMs: config.modelDeadlineMs,
      memoryDeadlineMs: config.rpcDeadlineMs,
      replyReAsks: config.replyReAsks,
      memoryTokens: config.memoryTokens,
    },
    reflexes: { proposer: config.reflexProposer },
    escalationLimits: { perSubtask: config.maxEscalationsPerSubtask, perTask: config.maxEscalationsPerTask },
  }, metrics));
  await serveMetrics({ service: 'orchestrator', host: config.metricsHost, port: config.metricsPort, logger, lifecycle });
  await orchestrator.start();
  // Registered last, so it runs first on SIGTERM: stop taking calls and messages, let those in
  // flight finish for up to MAESTRO_ORCHESTRATOR_DRAIN_TIMEOUT_MS and hand the rest back, then
  // clients, bus and database close behind it, all inside runService's 30 s.
  lifecycle.onShutdown('orchestrator', () => orchestrator.stop());
});
