/**
 * The stable codes of the errors the memory service raises itself, declared once so that code,
 * tests and docs quote the same strings. Bad input uses the runtime's `INVALID_ARGUMENT`
 * (`invalidField`), and provider failures keep the `@maestro/llm` codes they arrive with.
 */

/** Codes of memory's own errors; programs (and the gateway) branch on them. */
export const MemoryErrorCodes = {
  /** No memory has this id (Update, Forget): NOT_FOUND. */
  notFound: 'MEMORY_NOT_FOUND',
  /** A database error that is our query's fault, or an invariant the store relies on broke: INTERNAL. */
  storeFailed: 'MEMORY_STORE_FAILED',
  /** PostgreSQL cannot be reached (connection refused, reset, out of connections): UNAVAILABLE, retryable. */
  storeUnavailable: 'MEMORY_STORE_UNAVAILABLE',
  /** A stored row the domain cannot read (an unknown kind or status): INTERNAL. */
  storeCorrupt: 'MEMORY_STORE_CORRUPT',
  /** The database lacks a migration this code needs: run the memory migrations. */
  schemaOutdated: 'MEMORY_SCHEMA_OUTDATED',
  /** The embedder did not answer within the deadline: recall goes keyword only, re-embedding retries. */
  embedderTimeout: 'EMBEDDER_TIMEOUT',
  /**
   * The embedder answered vectors that do not fit its space (wrong count, dimension or a
   * non-finite value): the embedder is misconfigured, never the text's fault.
   */
  embedderBadVector: 'EMBEDDER_BAD_VECTOR',
  /** The configured embedder gives another dimension than its stored space: INTERNAL at start. */
  embeddingSpaceMismatch: 'EMBEDDING_SPACE_MISMATCH',
  /** Vectors were written to or searched in a space never registered (a bug of the caller). */
  embeddingSpaceUnknown: 'EMBEDDING_SPACE_UNKNOWN',
} as const;
/** One of {@link MemoryErrorCodes}. */
export type MemoryErrorCode = (typeof MemoryErrorCodes)[keyof typeof MemoryErrorCodes];
