/**
 * Applies the orchestrator's migrations to `MAESTRO_DATABASE_URL` and exits. Run before the
 * service starts (Kubernetes: an init container; locally `make migrate`).
 */
import { createDb, migrateToLatest } from '@maestro/db';
import { createLogger, runService } from '@maestro/runtime';
import { loadOrchestratorConfig } from './config.js';
import { orchestratorMigrations } from './store/migrations.js';
import { ORCHESTRATOR_SCHEMA } from './store/schema.js';

runService('orchestrator-migrate', async (lifecycle) => {
  const config = loadOrchestratorConfig();
  const logger = createLogger({ service: 'orchestrator-migrate', level: config.logLevel });
  lifecycle.setLogger(logger);
  const db = createDb({ url: config.databaseUrl, applicationName: 'orchestrator-migrate', maxConnections: 1 });
  try {
    await migrateToLatest(db, { schema: ORCHESTRATOR_SCHEMA, migrations: orchestratorMigrations, logger });
  } finally {
    await db.destroy();
  }
  process.exit(0);
});
