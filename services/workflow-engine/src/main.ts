/**
 * The workflow-engine process: config → telemetry and logger → PostgreSQL → NATS → engine →
 * resume unfinished runs → timeout sweep → activity results → gRPC server. Wiring only; see README.md.
 */
import { connectBus } from '@maestro/bus';
import { RunEventSchema, Subjects, WorkflowServiceService } from '@maestro/contracts';
import { createDb } from '@maestro/db';
import { createGrpcServer, createLogger, initTelemetry, runService } from '@maestro/runtime';
import { loadWorkflowEngineConfig } from './config.js';
import { createWorkflowEngine } from './engine.js';
import { migrateWorkflowSchema } from './store/migrations.js';
import { PostgresRunStore } from './store/postgres-run-store.js';
import type { WorkflowDatabase } from './store/workflow-database.js';
import { createWorkflowHandlers } from './transport/grpc/workflow.handler.js';
import { startActivityResultSubscriber } from './transport/nats/activity-result.subscriber.js';
import { NatsRunEventsPublisher } from './transport/nats/run-events.publisher.js';

runService('workflow-engine', async (lifecycle) => {
  const config = loadWorkflowEngineConfig();
  const telemetry = initTelemetry({ serviceName: 'workflow-engine', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());
  const logger = createLogger({ service: 'workflow-engine', level: config.logLevel });
  lifecycle.setLogger(logger);

  const db = createDb<WorkflowDatabase>({ url: config.databaseUrl, applicationName: 'workflow-engine' });
  lifecycle.onShutdown('database', () => db.destroy());
  if (config.migrateOnStart) await migrateWorkflowSchema(db, logger);

  const bus = await connectBus({ url: config.natsUrl, name: 'workflow-engine', logger, namespace: config.natsNamespace });
  lifecycle.onShutdown('bus', () => bus.close());
  await bus.ensureStreams();

  const engine = createWorkflowEngine({
    store: new PostgresRunStore(db),
    publisher: new NatsRunEventsPublisher(bus),
    logger,
    watchPollMs: config.watchPollMs,
    sweepMs: config.sweepMs,
  });
  lifecycle.onShutdown('engine effects and timeout sweep', () => engine.stop());
  await engine.ensureDefaultDefinitions();
  await engine.resume();
  engine.startTimeoutSweep();

  const results = await startActivityResultSubscriber(bus, engine, { logger, concurrency: config.resultConcurrency });
  lifecycle.onShutdown('activity results', () => results.stop());
  // Transitions made by other replicas reach this replica's WatchRun streams through the events.
  for (const subject of [Subjects.runTransitioned, Subjects.runFinished]) {
    const subscription = bus.subscribe(subject, RunEventSchema, (event) => engine.notifyRunChanged(event.runId));
    lifecycle.onShutdown(`watch ${subject}`, () => subscription.unsubscribe());
  }

  const server = createGrpcServer({ address: config.grpcAddr, logger, serviceNames: ['maestro.v1.WorkflowService'] });
  server.add(WorkflowServiceService, createWorkflowHandlers(engine));
  await server.start();
  lifecycle.onShutdown('grpc', () => server.shutdown());
  // Registered last, so it runs first: open WatchRun streams end before the server drains.
  lifecycle.onShutdown('watch streams', () => engine.endWatches());
});
