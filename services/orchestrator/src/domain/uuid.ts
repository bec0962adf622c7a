/**
 * Task ids are UUIDs. Anything else cannot name a task, so stores answer "not found" and page
 * tokens are refused before the text reaches SQL (where PostgreSQL would refuse the uuid cast).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for text PostgreSQL accepts as a uuid in its canonical hyphenated form. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
