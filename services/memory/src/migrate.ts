/**
 * `node dist/migrate.js`: brings the `memory` schema up to date and exits (0 done, 1 with the
 * reason). Runs before the service: an init container in Kubernetes, `make migrate` locally.
 */
import { runMigrationCommand } from '@maestro/db';
import { loadConfig } from '@maestro/runtime';
import { memoryConfigSpec } from './config.js';
import { MEMORY_SCHEMA, memoryMigrations } from './store/migrations.js';

runMigrationCommand({
  service: 'memory',
  schema: MEMORY_SCHEMA,
  migrations: memoryMigrations,
  loadConfig: () => loadConfig(memoryConfigSpec),
});
