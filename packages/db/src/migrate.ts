/**
 * Migrations per service: each service owns one schema and keeps its migrations in code, and
 * `migrateToLatest` applies them with the bookkeeping table inside that schema, so services
 * never see each other's history.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { UnexpectedError, type Logger } from '@maestro/runtime';

/** Options for {@link migrateToLatest}. */
export interface MigrateOptions {
  /** The service's schema (created if missing). */
  schema: string;
  /** Migrations by name; applied in name order (`0001_init`, `0002_…`). */
  migrations: Record<string, Migration>;
  logger: Logger;
}

class InlineMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(this.migrations);
  }
}

/** Applies every pending migration of one service; throws naming the failed migration. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any service's typed Kysely is accepted; migrations are untyped by nature
export async function migrateToLatest(db: Kysely<any>, options: MigrateOptions): Promise<string[]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(options.schema)) throw new UnexpectedError('BAD_SCHEMA', `invalid schema name "${options.schema}"`);
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(options.schema)}`.execute(db);
  const migrator = new Migrator({
    db,
    provider: new InlineMigrationProvider(options.migrations),
    migrationTableSchema: options.schema,
  });
  const { error, results } = await migrator.migrateToLatest();
  const applied: string[] = [];
  for (const result of results ?? []) {
    if (result.status === 'Success') {
      applied.push(result.migrationName);
      options.logger.info('migration applied', { schema: options.schema, migration: result.migrationName });
    } else if (result.status === 'Error') {
      options.logger.error('migration failed', { schema: options.schema, migration: result.migrationName });
    }
  }
  if (error) {
    throw new UnexpectedError('MIGRATION_FAILED', `migrating schema ${options.schema} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  if (applied.length === 0) options.logger.info('schema up to date', { schema: options.schema });
  return applied;
}
