/**
 * `node dist/migrate.js`: brings the `gateway` schema (API keys) up to date and exits (0 done, 1
 * with the reason). Runs before the gateway: an init container or job in Kubernetes, `make
 * migrate` locally.
 */
import { runMigrationCommand } from '@maestro/db';
import { loadConfig } from '@maestro/runtime';
import { GATEWAY_SCHEMA, loadGatewayMigrations } from './auth/api-key-migrations.js';
import { gatewayConfigSpec } from './config.js';

runMigrationCommand({
  service: 'gateway',
  schema: GATEWAY_SCHEMA,
  migrations: loadGatewayMigrations(),
  loadConfig: () => loadConfig(gatewayConfigSpec),
});
