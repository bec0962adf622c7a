/**
 * Brings the `workflow` schema up to date and exits: 0 when done, 1 (with the reason) when the
 * configuration is bad or a migration fails. Runs before the service (an init container in
 * Kubernetes, `make migrate` locally): `node dist/migrate.js`.
 */
import { createDb } from '@maestro/db';
import { ConfigError, createLogger } from '@maestro/runtime';
import { loadWorkflowEngineConfig } from './config.js';
import { migrateWorkflowSchema } from './store/migrations.js';

async function migrate(): Promise<void> {
  const config = loadWorkflowEngineConfig();
  const logger = createLogger({ service: 'workflow-engine-migrate', level: config.logLevel });
  const db = createDb<unknown>({ url: config.databaseUrl, applicationName: 'workflow-engine-migrate', maxConnections: 1 });
  try {
    const applied = await migrateWorkflowSchema(db, logger);
    logger.info('workflow schema migrated', { applied });
  } finally {
    await db.destroy();
  }
}

migrate().then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`workflow-engine migrate: ${message}\n`);
    process.exit(1);
  },
);
