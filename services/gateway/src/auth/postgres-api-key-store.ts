/**
 * API keys in PostgreSQL (`gateway.api_keys`, see `migrations/`): the production store, shared by
 * every gateway replica. Only the secret's hash is stored.
 */
import type { Kysely } from '@maestro/db';
import { apiKeyExists } from './api-key-exists.js';
import type { ApiKeyRecord, ApiKeyStore, NewApiKey } from './api-key-store.js';
import { isScope, type Scope } from './principal.js';

/** The row of `gateway.api_keys`. */
interface ApiKeyRow {
  id: string;
  name: string;
  tenant: string;
  scopes: string[];
  secret_hash: string;
  operator: boolean;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/** The gateway's tables, for Kysely. */
export interface GatewayTables {
  'gateway.api_keys': ApiKeyRow;
}

function fromRow(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    tenant: row.tenant,
    scopes: row.scopes.filter(isScope),
    secretHash: row.secret_hash,
    operator: row.operator,
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
    ...(row.last_used_at ? { lastUsedAt: row.last_used_at } : {}),
  };
}

function toRow(key: NewApiKey): ApiKeyRow {
  return {
    id: key.id,
    name: key.name,
    tenant: key.tenant,
    scopes: [...key.scopes] as Scope[],
    secret_hash: key.secretHash,
    operator: key.operator,
    created_at: key.createdAt,
    revoked_at: null,
    last_used_at: null,
  };
}

const uniqueViolation = '23505';

/** An {@link ApiKeyStore} over a Kysely connection; `close` destroys it when `ownsDb`. */
export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly db: Kysely<GatewayTables>,
    private readonly options: { ownsDb?: boolean } = {},
  ) {}

  async create(key: NewApiKey): Promise<ApiKeyRecord> {
    try {
      const row = await this.db.insertInto('gateway.api_keys').values(toRow(key)).returningAll().executeTakeFirstOrThrow();
      return fromRow(row);
    } catch (err) {
      if ((err as { code?: unknown }).code === uniqueViolation) throw apiKeyExists(key.id);
      throw err;
    }
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('gateway.api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async list(tenant?: string): Promise<ApiKeyRecord[]> {
    let query = this.db.selectFrom('gateway.api_keys').selectAll();
    if (tenant !== undefined) query = query.where('tenant', '=', tenant);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map(fromRow);
  }

  async revoke(id: string, at: Date, tenant?: string): Promise<ApiKeyRecord | undefined> {
    let update = this.db
      .updateTable('gateway.api_keys')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
      .where('id', '=', id);
    if (tenant !== undefined) update = update.where('tenant', '=', tenant);
    const row = await update.returningAll().executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db.updateTable('gateway.api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async upsertOperator(key: NewApiKey): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('gateway.api_keys')
        .set({ revoked_at: key.createdAt })
        .where('operator', '=', true)
        .where('id', '<>', key.id)
        .where('revoked_at', 'is', null)
        .execute();
      await trx
        .insertInto('gateway.api_keys')
        .values({ ...toRow(key), operator: true })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            name: key.name,
            tenant: key.tenant,
            scopes: [...key.scopes],
            secret_hash: key.secretHash,
            operator: true,
            revoked_at: null,
          }),
        )
        .execute();
    });
  }

  async countActive(): Promise<number> {
    const row = await this.db
      .selectFrom('gateway.api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async close(): Promise<void> {
    if (this.options.ownsDb) await this.db.destroy();
  }
}
