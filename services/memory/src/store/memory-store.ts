/**
 * The port every memory backend implements. Requests arrive validated (see `validateRemember`
 * and friends); a store only keeps and finds memories.
 */
import type { ListSpec, Memory, RecallSpec, RememberSpec, ScoredMemory } from '../domain/memory.js';

/** Where memories live and how they are found again. */
export interface MemoryStore {
  /** Stores a memory and returns it with its id and creation time. */
  remember(spec: RememberSpec): Promise<Memory>;
  /**
   * The project's memories that best match `spec.query`, best first; when nothing matches (or
   * the query is empty) the project's most recent memories of that kind instead, with score 0,
   * so an agent always gets its project notes.
   */
  recall(spec: RecallSpec): Promise<ScoredMemory[]>;
  /** Deletes a memory; false when there was none with that id. */
  forget(id: string): Promise<boolean>;
  /** The project's memories, newest first. */
  list(spec: ListSpec): Promise<Memory[]>;
}
