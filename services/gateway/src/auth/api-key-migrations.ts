/**
 * The `gateway` schema's migrations: the SQL files of `services/gateway/migrations/`, applied in
 * name order by `dist/migrate.js` before the gateway starts (the k8s migrate job, `make
 * migrate`). The directory sits beside both `src/` and `dist/`, so one relative path finds it
 * from either.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely, type Migration } from '@maestro/db';

/** The schema the gateway owns; no other service reads it. */
export const GATEWAY_SCHEMA = 'gateway';

/** `services/gateway/migrations`, from `src/auth` or `dist/auth`. */
export const gatewayMigrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Every `NNNN_name.sql` of `dir`, by name without `.sql`, each run as one statement batch. */
export function loadGatewayMigrations(dir: string = gatewayMigrationsDir): Record<string, Migration> {
  const files = readdirSync(dir).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).sort();
  return Object.fromEntries(
    files.map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const migration: Migration = {
        async up(db: Kysely<unknown>): Promise<void> {
          await sql.raw(text).execute(db);
        },
      };
      return [file.slice(0, -'.sql'.length), migration];
    }),
  );
}
