/**
 * `node dist/migrate.js`: brings the `router` schema (the usage ledger) up to date and exits (0
 * done, 1 with the reason). Runs before the service: an init container in Kubernetes, `make
 * migrate` locally.
 */
import { runMigrationCommand } from '@maestro/db';
import { loadConfig } from '@maestro/runtime';
import { routerConfigSpec } from './config.js';
import { ROUTER_SCHEMA, routerMigrations } from './store/migrations.js';

runMigrationCommand({
  service: 'router',
  schema: ROUTER_SCHEMA,
  migrations: routerMigrations,
  loadConfig: () => loadConfig(routerConfigSpec),
});
