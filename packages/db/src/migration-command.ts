/**
 * The body of every service's `migrate.ts`: load the service's config, apply its migrations to
 * its schema, and exit — 0 when done, 1 with the reason (naming the variable for a bad
 * configuration) when not. Kubernetes runs it as an init container, `make migrate` locally.
 */
import { ConfigError, createLogger, type LogLevel } from '@maestro/runtime';
import type { Migration } from 'kysely';
import { createDb } from './database.js';
import { migrateToLatest } from './migrate.js';

/** What a service's migrate entry point declares. */
export interface MigrationCommandOptions {
  /** The service's name, for logs (`<service>-migrate`). */
  service: string;
  schema: string;
  migrations: Record<string, Migration>;
  /** Loads the service's configuration (throws ConfigError when invalid). */
  loadConfig: () => { databaseUrl: string; logLevel: LogLevel };
}

/** Applies the migrations and exits the process. */
export function runMigrationCommand(options: MigrationCommandOptions): void {
  const name = `${options.service}-migrate`;
  const run = async (): Promise<void> => {
    const config = options.loadConfig();
    const logger = createLogger({ service: name, level: config.logLevel });
    const db = createDb({ url: config.databaseUrl, applicationName: name, maxConnections: 1 });
    try {
      const applied = await migrateToLatest(db, { schema: options.schema, migrations: options.migrations, logger });
      logger.info('schema migrated', { schema: options.schema, applied });
    } finally {
      await db.destroy();
    }
  };
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      const message = err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err);
      process.stderr.write(`${name}: ${message}\n`);
      process.exit(1);
    },
  );
}
