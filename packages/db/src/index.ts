/**
 * PostgreSQL access for the services that own tables: a Kysely connection factory and
 * per-service migrations kept in code and applied to the service's own schema.
 *
 * @example
 * const db = createDb<WorkflowTables>({ url: config.databaseUrl, applicationName: 'workflow-engine' });
 * await migrateToLatest(db, { schema: 'workflow', migrations, logger });
 */
export { createDb, type DbOptions } from './database.js';
export { migrateToLatest, type MigrateOptions } from './migrate.js';
export { runMigrationCommand, type MigrationCommandOptions } from './migration-command.js';
export { sql, type Kysely, type Migration, type Transaction, type Selectable, type Insertable, type Updateable, type Generated, type ColumnType } from 'kysely';
