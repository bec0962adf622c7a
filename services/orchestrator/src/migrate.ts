/**
 * `node dist/migrate.js`: brings the `orchestrator` schema up to date and exits (0 done, 1 with
 * the reason). Runs before the service: an init container in Kubernetes, `make migrate` locally.
 */
import { runMigrationCommand } from '@maestro/db';
import { loadOrchestratorConfig } from './config.js';
import { orchestratorMigrations } from './store/migrations.js';
import { ORCHESTRATOR_SCHEMA } from './store/schema.js';

runMigrationCommand({
  service: 'orchestrator',
  schema: ORCHESTRATOR_SCHEMA,
  migrations: orchestratorMigrations,
  loadConfig: () => loadOrchestratorConfig(),
});
