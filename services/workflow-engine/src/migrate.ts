/**
 * `node dist/migrate.js`: brings the `workflow` schema up to date and exits (0 done, 1 with the
 * reason). Runs before the service: an init container in Kubernetes, `make migrate` locally.
 */
import { runMigrationCommand } from '@maestro/db';
import { loadWorkflowEngineConfig } from './config.js';
import { WORKFLOW_SCHEMA, workflowMigrations } from './store/migrations.js';

runMigrationCommand({
  service: 'workflow-engine',
  schema: WORKFLOW_SCHEMA,
  migrations: workflowMigrations,
  loadConfig: () => loadWorkflowEngineConfig(),
});
