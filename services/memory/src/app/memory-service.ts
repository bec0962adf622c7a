/**
 * The memory service's use cases over validated requests: Remember, Recall, List, Update,
 * Forget and Learn. It decides the times (the injected clock), keeps vectors in step with
 * content (best effort: an embedder outage never fails a write), and leaves storage to the
 * ports. The gRPC handler validates and maps; this is what it calls.
 */
import { notFound, isVisibleTo } from '@maestro/runtime';
import type { Clock, Logger } from '@maestro/runtime';
import { REFLEX_POLICY_DEFAULTS } from '../domain/confidence.js';
import type { ReflexPolicy } from '../domain/confidence.js';
import { outcomeOf, planLesson } from '../domain/lesson.js';
import type { LearnOutcome, LearnSpec } from '../domain/lesson.js';
import { MemoryErrorCodes } from '../domain/memory-error-codes.js';
import { MemoryStatuses, PERSON_AUTHOR } from '../domain/memory.js';
import type { Memory } from '../domain/memory.js';
import { isEmptyUpdate } from '../domain/memory-requests.js';
import type { ForgetSpec, ListSpec, RecallSpec, RememberSpec, UpdateSpec } from '../domain/memory-requests.js';
import type { MemoryStore } from '../store/memory-store.js';
import type { VectorIndex } from '../store/vector-index.js';
import type { EmbeddingSpaces } from './embedding-spaces.js';
import { recallMemories } from './recall-memories.js';
import type { RecallResult } from './recall-memories.js';

/** What {@link MemoryService} needs. */
export interface MemoryServiceOptions {
  store: MemoryStore;
  index: VectorIndex;
  spaces: EmbeddingSpaces;
  clock: Clock;
  /** Reflex confidence, decay and expiry. @default REFLEX_POLICY_DEFAULTS */
  policy?: ReflexPolicy;
  /**
   * Vector hits below this cosine similarity are not hits (the local embedder puts unrelated
   * sentences around 0 to 0.2).
   * @default 0.25
   */
  minSimilarity?: number;
}

/** Defaults of {@link MemoryServiceOptions}. */
export const MEMORY_SERVICE_DEFAULTS = { minSimilarity: 0.25 } as const;

/** What Learn answers. */
export interface LearnAnswer {
  readonly memory: Memory;
  readonly outcome: LearnOutcome;
  readonly supersededIds: readonly string[];
}

/** The memory use cases. */
export class MemoryService {
  private readonly store: MemoryStore;
  private readonly index: VectorIndex;
  private readonly spaces: EmbeddingSpaces;
  private readonly clock: Clock;
  private readonly policy: ReflexPolicy;
  private readonly minSimilarity: number;

  constructor(options: MemoryServiceOptions) {
    this.store = options.store;
    this.index = options.index;
    this.spaces = options.spaces;
    this.clock = options.clock;
    this.policy = options.policy ?? REFLEX_POLICY_DEFAULTS;
    this.minSimilarity = options.minSimilarity ?? MEMORY_SERVICE_DEFAULTS.minSimilarity;
  }

  /** Stores what a person wrote (confidence 1, no decay) and embeds it when the embedder answers. */
  async remember(spec: RememberSpec, logger: Logger): Promise<Memory> {
    const now = this.now();
    const memory = await this.store.remember({
      ...spec,
      status: MemoryStatuses.active,
      supersededBy: undefined,
      confidence: 1,
      createdAt: now,
      updatedAt: now,
      provenance: undefined,
      topic: '',
      confirmations: 0,
      author: PERSON_AUTHOR,
      confirmedAt: undefined,
    });
    await this.spaces.storeVectors([memory], logger);
    return memory;
  }

  /** See `recallMemories`. */
  recall(spec: RecallSpec, logger: Logger): Promise<RecallResult> {
    return recallMemories(
      { store: this.store, index: this.index, spaces: this.spaces, policy: this.policy, minSimilarity: this.minSimilarity },
      spec,
      this.now(),
      logger,
    );
  }

  /** The project's memories, newest first. */
  list(spec: ListSpec): Promise<Memory[]> {
    return this.store.list(spec, this.now());
  }

  /**
   * Pins, edits, retires or restores a memory. Edited content (or tags) is re-embedded; a
   * superseded reflex that a person restores loses its `supersededBy`.
   */
  async update(spec: UpdateSpec, logger: Logger): Promise<Memory> {
    const existing = await this.store.get(spec.id);
    // Another tenant's memory is answered exactly like one that does not exist.
    if (existing === undefined || !isVisibleTo(existing.tenant, spec.tenant)) throw notFound('memory', spec.id, MemoryErrorCodes.notFound);
    if (isEmptyUpdate(spec)) return existing;
    const restoring = spec.status === MemoryStatuses.active && existing.status === MemoryStatuses.superseded;
    const { tenant: _scope, ...changes } = spec;
    const updated = await this.store.update(spec.id, {
      ...changes,
      ...(restoring ? { supersededBy: null } : {}),
      updatedAt: this.now(),
    });
    if (updated === undefined) throw notFound('memory', spec.id, MemoryErrorCodes.notFound);
    if (spec.content !== undefined || spec.tags !== undefined) {
      // The old vectors describe the old words: drop them in every space, then embed anew
      // (or let the re-embedder do it when the embedder is down).
      await this.index.removeAll(updated.id);
      await this.spaces.storeVectors([updated], logger);
    }
    return updated;
  }

  /** Deletes a memory and its vectors for good; false when there was none (or none of the caller's tenant). */
  forget(spec: ForgetSpec): Promise<boolean> {
    return this.store.forget(spec.id, spec.tenant);
  }

  /** Stores a verified lesson: created, merged into a duplicate, or superseding contradictions. */
  async learn(spec: LearnSpec, logger: Logger): Promise<LearnAnswer> {
    const now = this.now();
    const { plan, memory } = await this.store.learn(spec, (existing) => planLesson(existing, spec, now, this.policy));
    const retagged = plan.action === 'merge' && plan.into.tags.join('\n') !== memory.tags.join('\n');
    if (plan.action === 'create' || retagged) {
      if (retagged) await this.index.removeAll(memory.id);
      await this.spaces.storeVectors([memory], logger);
    }
    return { memory, outcome: outcomeOf(plan), supersededIds: plan.supersede };
  }

  private now(): Date {
    return new Date(this.clock.now());
  }
}
