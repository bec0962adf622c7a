/**
 * Brings the `memory` schema up to date and exits: 0 when done, 1 (with the reason) when the
 * configuration is bad or a migration fails. Runs before the service (an init container in
 * Kubernetes, `make migrate` locally).
 */
import { createDb } from '@maestro/db';
import { ConfigError, createLogger, loadConfig } from '@maestro/runtime';
import { memoryConfigSpec } from './config.js';
import { migrateMemorySchema } from './store/migrations.js';

async function migrate(): Promise<void> {
  const config = loadConfig(memoryConfigSpec);
  const logger = createLogger({ service: 'memory-migrate', level: config.logLevel });
  const db = createDb<unknown>({ url: config.databaseUrl, applicationName: 'memory-migrate', maxConnections: 1 });
  try {
    const applied = await migrateMemorySchema(db, logger);
    logger.info('memory schema migrated', { applied });
  } finally {
    await db.destroy();
  }
}

migrate().then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`memory migrate: ${message}\n`);
    process.exit(1);
  },
);
