/**
 * The memory process: config → telemetry and logger → PostgreSQL → gRPC server. Migrations
 * run before it, from `migrate.ts`. No logic here; see README.md for what the service does.
 */
import { createDb } from '@maestro/db';
import { createLogger, initTelemetry, loadConfig, runService } from '@maestro/runtime';
import { memoryConfigSpec } from './config.js';
import { createMemoryServer } from './memory-server.js';
import { PostgresMemoryStore } from './store/postgres-memory-store.js';
import type { MemoryDatabase } from './store/postgres-memory-store.js';

runService('memory', async (lifecycle) => {
  const config = loadConfig(memoryConfigSpec);
  const telemetry = initTelemetry({ serviceName: 'memory', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());
  const logger = createLogger({ service: 'memory', level: config.logLevel });
  lifecycle.setLogger(logger);

  const db = createDb<MemoryDatabase>({ url: config.databaseUrl, applicationName: 'memory' });
  lifecycle.onShutdown('database', () => db.destroy());

  const server = createMemoryServer({ address: config.grpcAddr, logger, store: new PostgresMemoryStore(db) });
  await server.start();
  lifecycle.onShutdown('grpc', () => server.shutdown());
});
