/**
 * How a PostgreSQL failure leaves the store: a server that cannot be reached is transient
 * (`MEMORY_STORE_UNAVAILABLE`, UNAVAILABLE); any other database error is a query we got wrong
 * (`MEMORY_STORE_FAILED`, INTERNAL). Maestro errors (a UserError naming a field) pass as they are.
 */
import { OperationalError, UnexpectedError, isMaestroError } from '@maestro/runtime';
import { MemoryErrorCodes } from '../domain/memory-error-codes.js';

/** Runs `fn`, translating database errors as above. */
export async function guardStore<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isMaestroError(err)) throw err;
    const message = `memory store (postgres) failed during ${operation}: ${err instanceof Error ? err.message : String(err)}`;
    if (isConnectionError(err)) throw new OperationalError(MemoryErrorCodes.storeUnavailable, message, { cause: err });
    throw new UnexpectedError(MemoryErrorCodes.storeFailed, message, { cause: err });
  }
}

// Node socket errors and PostgreSQL's connection / resource classes (08, 53, 57P).
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') {
    return err instanceof Error && /connect|terminat|timeout/i.test(err.message);
  }
  return /^(ECONN|ETIMEDOUT|ENOTFOUND|EPIPE)/.test(code) || /^(08|53|57P)/.test(code);
}
