/**
 * The port every memory backend implements: the records, keyword search over them, and Learn's
 * read-decide-write on one topic. Requests arrive validated (see `domain/memory-requests.ts`)
 * and with their times decided (the service's clock); a store only keeps and finds memories.
 */
import type { LearnSpec, LessonPlan } from '../domain/lesson.js';
import type { Memory, MemoryKind, NewMemory } from '../domain/memory.js';
import type { ListSpec } from '../domain/memory-requests.js';
import type { KeywordHit } from '../domain/rank-fusion.js';
import type { RecallQueryParts } from '../domain/recall-query.js';

/** Which memories a recall may return: live (active, unexpired at `now`) ones of the project and scopes. */
export interface RecallFilter {
  /** Only this tenant's memories; undefined: every tenant's (an internal caller). */
  readonly tenant: string | undefined;
  readonly project: string;
  /** `project` and the caller's other scopes. */
  readonly scopes: readonly string[];
  readonly kind: MemoryKind | undefined;
  readonly now: Date;
}

/** What an Update writes; `expiresAt: null` removes the expiry. */
export interface MemoryChanges {
  readonly content?: string;
  readonly pinned?: boolean;
  readonly status?: Memory['status'];
  readonly supersededBy?: string | null;
  readonly tags?: readonly string[];
  readonly expiresAt?: Date | null;
  readonly updatedAt: Date;
}

/** What Learn did: the plan it followed and the reflex that holds the lesson now. */
export interface LearnResult {
  readonly plan: LessonPlan;
  readonly memory: Memory;
}

/** Where memories live and how they are found by their words. */
export interface MemoryStore {
  /** Stores a memory and returns it with its id. */
  remember(memory: NewMemory): Promise<Memory>;
  /** One memory, whatever its status; undefined when there is none. */
  get(id: string): Promise<Memory | undefined>;
  /** Applies `changes`; undefined when there is no such memory. */
  update(id: string, changes: MemoryChanges): Promise<Memory | undefined>;
  /**
   * Deletes a memory (and its vectors); false when there was none with that id, or (with
   * `tenant`) none of that tenant.
   */
  forget(id: string, tenant?: string): Promise<boolean>;
  /** The project's memories (of `spec.tenant` when set), newest first; live ones only unless `includeInactive`. */
  list(spec: ListSpec, now: Date): Promise<Memory[]>;
  /**
   * Full-text matches, best first, at most `limit`: every word of the query (web-search
   * syntax), or, when no memory has them all, any of its words (exclusions dropped).
   */
  keywordSearch(query: RecallQueryParts, filter: RecallFilter, limit: number): Promise<KeywordHit[]>;
  /** The pinned live memories, newest first. */
  pinned(filter: RecallFilter, limit: number): Promise<Memory[]>;
  /** The newest live memories. */
  newest(filter: RecallFilter, limit: number): Promise<Memory[]>;
  /**
   * Learn, atomically for one tenant, project and topic: reads the active reflexes on the topic, asks
   * `plan` what to do, and does it (merge, or create and supersede), so two lessons on one
   * topic at the same time cannot both create.
   */
  learn(spec: LearnSpec, plan: (existing: readonly Memory[]) => LessonPlan): Promise<LearnResult>;
}
