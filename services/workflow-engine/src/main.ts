/**
 * The workflow-engine process: config → telemetry and logger → PostgreSQL (migrations) → NATS →
 * the service wired in `workflow-engine-service.ts` → the /metrics endpoint. Wiring only; see README.md.
 */
import { busSigningFrom, connectBus } from '@maestro/bus';
import { createDb } from '@maestro/db';
import { compileTransportSecurity, createLogger, initTelemetry, runService, serveMetrics } from '@maestro/runtime';
import { loadWorkflowEngineConfig } from './config.js';
import { migrateWorkflowSchema } from './store/migrations.js';
import type { WorkflowDatabase } from './store/workflow-database.js';
import { createWorkflowEngineService } from './workflow-engine-service.js';

runService('workflow-engine', async (lifecycle) => {
  const config = loadWorkflowEngineConfig();
  const security = compileTransportSecurity(config);
  const telemetry = initTelemetry({ serviceName: 'workflow-engine', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());
  const logger = createLogger({ service: 'workflow-engine', level: config.logLevel });
  lifecycle.setLogger(logger);

  const db = createDb<WorkflowDatabase>({ url: config.databaseUrl, applicationName: 'workflow-engine', logger });
  lifecycle.onShutdown('database', () => db.destroy());
  if (config.migrateOnStart) await migrateWorkflowSchema(db, logger);

  const bus = await connectBus({ url: config.natsUrl, name: 'workflow-engine', logger, namespace: config.natsNamespace, signing: busSigningFrom(config) });
  lifecycle.onShutdown('bus', () => bus.close());
  await bus.ensureStreams();

  const service = createWorkflowEngineService({
    address: config.grpcAddr,
    security,
    healthPort: config.grpcHealthPort,
    logger,
    db,
    bus,
    resultConcurrency: config.resultConcurrency,
    stepBatch: config.stepBatch,
    watchPollMs: config.watchPollMs,
    sweepMs: config.sweepMs,
  });
  // Registered after the bus and database, so it stops before them.
  lifecycle.onShutdown('workflow-engine', () => service.stop());
  await service.start();
  await serveMetrics({ service: 'workflow-engine', host: config.metricsHost, port: config.metricsPort, logger, lifecycle });
});
