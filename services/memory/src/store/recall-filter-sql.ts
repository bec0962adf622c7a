/**
 * The one WHERE clause every recall search shares (keyword, vector, pinned, recent), over
 * `memory.memories m`: the project, the tenant and the kind when set, the scopes, active and not expired.
 */
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { MemoryStatuses } from '../domain/memory.js';
import type { RecallFilter } from './memory-store.js';

/** `m.project = … AND m.scope = ANY(…) AND … ` for `filter`. */
export function recallFilterSql(filter: RecallFilter): RawBuilder<unknown> {
  const kind = filter.kind === undefined ? sql`` : sql`AND m.kind = ${filter.kind}`;
  const tenant = filter.tenant === undefined ? sql`` : sql`AND m.tenant = ${filter.tenant}`;
  return sql`m.project = ${filter.project}
    ${tenant}
    AND m.scope = ANY(${[...filter.scopes]}::text[])
    AND m.status = ${MemoryStatuses.active}
    AND (m.expires_at IS NULL OR m.expires_at > ${filter.now})
    ${kind}`;
}

/** `AND m.tsv @@ websearch_to_tsquery(…)` keeping web-search exclusions (`-word`); empty for none. */
export function exclusionFilterSql(exclusions: string): RawBuilder<unknown> {
  if (exclusions === '') return sql``;
  // An exclusion of stop words only (`-the`) parses to an empty query, which matches nothing:
  // it must exclude nothing instead.
  const query = sql`websearch_to_tsquery('english', ${exclusions})`;
  return sql`AND (numnode(${query}) = 0 OR m.tsv @@ ${query})`;
}
