/** Run ids are UUIDs; anything else cannot name a run, so it is rejected before reaching SQL. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for text PostgreSQL accepts as a uuid. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
