/**
 * What agents remember: the memory record, its kinds, statuses and provenance, and the bounds
 * every request is held to. Pure: no I/O.
 */
import { MemoryRecallLimits, MemoryScopeLimits } from '@maestro/contracts';

/** The kinds of memory. */
export const MemoryKinds = {
  /** How the user or team likes things done ("use pnpm", "no default exports"). */
  preference: 'preference',
  /** Facts about the project (layout, conventions, commands, where things live). */
  project: 'project',
  /** Lessons learned from verified outcomes ("tests need TZ=UTC"). */
  reflex: 'reflex',
} as const;
/** One of {@link MemoryKinds}. */
export type MemoryKind = (typeof MemoryKinds)[keyof typeof MemoryKinds];

/** Where a memory stands; only `active` memories are recalled. */
export const MemoryStatuses = {
  active: 'active',
  /** Put aside by a person; kept, listed with `include_inactive`, restorable. */
  retired: 'retired',
  /** Contradicted by a later verified lesson (`supersededBy`); kept as history. */
  superseded: 'superseded',
} as const;
/** One of {@link MemoryStatuses}. */
export type MemoryStatus = (typeof MemoryStatuses)[keyof typeof MemoryStatuses];

/** The author of what a person wrote (Remember); learned reflexes name their rule or model. */
export const PERSON_AUTHOR = 'person';

/** The verified outcome a reflex was learned from (see `MemoryProvenance` in memory.proto). */
export interface MemoryProvenance {
  readonly taskId: string;
  readonly subtaskId: string;
  readonly commitSha: string;
  readonly testEvidence: string;
  readonly failingTests: readonly string[];
  readonly failureKind: string;
  readonly fix: string;
  readonly files: readonly string[];
  /** Later outcomes merged into this reflex (task ids), oldest first. */
  readonly confirmedBy: readonly string[];
}

/** One remembered note. */
export interface Memory {
  readonly id: string;
  /** The tenant it belongs to (`default` for what an internal caller created). */
  readonly tenant: string;
  readonly project: string;
  readonly kind: MemoryKind;
  readonly content: string;
  readonly tags: readonly string[];
  /** `project`, `user:<id>` or `team:<id>`. */
  readonly scope: string;
  readonly pinned: boolean;
  readonly status: MemoryStatus;
  readonly supersededBy: string | undefined;
  /** 0..1 as stored; recall multiplies the decayed value (see `effectiveConfidence`). */
  readonly confidence: number;
  readonly expiresAt: Date | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly provenance: MemoryProvenance | undefined;
  /** A learned reflex's subject; empty for what a person wrote. */
  readonly topic: string;
  readonly confirmations: number;
  /** `person`, `rule`, `model:<provider>/<model>` or `scripted:<name>`. */
  readonly author: string;
  /** When a verified outcome last confirmed it; decay counts from here. Unset for a person's memory (no decay). */
  readonly confirmedAt: Date | undefined;
}

/** Bounds of memory requests; exported so docs and tests quote the same numbers. */
export const MemoryLimits = {
  /** Longest project name. */
  maxProjectLength: 512,
  /** Longest content, in characters. */
  maxContentLength: 20_000,
  /** Most tags on one memory. */
  maxTags: 20,
  /** Longest tag. */
  maxTagLength: 64,
  /** Longest recall query, in characters (declared with its callers in @maestro/contracts). */
  maxQueryLength: MemoryRecallLimits.queryMaxChars,
  /** Recall results when no limit is given. */
  defaultRecallLimit: 5,
  /** Most recall results. */
  maxRecallLimit: 50,
  /** List results when no limit is given. */
  defaultListLimit: 50,
  /** Most list results. */
  maxListLimit: 200,
  /** Most extra scopes on one recall. */
  maxScopes: MemoryScopeLimits.maxRecallScopes,
  /** Longest id inside a `user:<id>` / `team:<id>` scope. */
  maxScopeIdLength: MemoryScopeLimits.maxIdLength,
  /** Longest reflex topic. */
  maxTopicLength: 500,
  /** Longest author (`model:<provider>/<model>`). */
  maxAuthorLength: 200,
  /** Longest short provenance field (ids, commit, failure kind). */
  maxProvenanceIdLength: 200,
  /** Longest long provenance field (test evidence, fix). */
  maxProvenanceTextLength: 4_000,
  /** Most entries in a provenance list (failing tests, files). */
  maxProvenanceListItems: 100,
  /** Longest entry of a provenance list. */
  maxProvenanceListItemLength: 500,
} as const;

const kinds: readonly string[] = Object.values(MemoryKinds);
const statuses: readonly string[] = Object.values(MemoryStatuses);

/** True when `value` names a memory kind. */
export function isMemoryKind(value: string): value is MemoryKind {
  return kinds.includes(value);
}

/** True when `value` names a memory status. */
export function isMemoryStatus(value: string): value is MemoryStatus {
  return statuses.includes(value);
}

/** The kinds, for messages ("preference, project, reflex"). */
export const memoryKindList = kinds.join(', ');

/**
 * Most characters of a memory sent to an embedder. 2 000 characters are about 500 tokens of
 * English: within the smallest input limit in common use, the 512 tokens of the small open
 * models an OpenAI-compatible server may run (all-MiniLM, bge, e5), and far within OpenAI's
 * 8 191 and Gemini's 2 048. It is also the room a recall query has (`maxQueryLength`), and the
 * query goes to the same embedder. A longer memory embeds its opening; keyword search still
 * reads all of it. Text that still does not fit (dense code, CJK) is refused by the provider
 * and skipped by the re-embedder in that space.
 */
export const EMBEDDING_TEXT_MAX_CHARS = 2_000;

/**
 * The text an embedder sees for a memory: its content, then its tags, at most
 * {@link EMBEDDING_TEXT_MAX_CHARS}. Text within the bound is unchanged (so vectors already
 * stored keep matching); a longer one keeps the tags whole and cuts the content to fit.
 */
export function embeddingText(memory: Pick<Memory, 'content' | 'tags'>): string {
  const tags = memory.tags.length === 0 ? '' : `\n${memory.tags.join(' ')}`;
  if (memory.content.length + tags.length <= EMBEDDING_TEXT_MAX_CHARS) return memory.content + tags;
  // Tags are bounded (maxTags × maxTagLength) well below the limit, so content keeps most of the room.
  const room = Math.max(0, EMBEDDING_TEXT_MAX_CHARS - tags.length);
  return (cutAtWordBoundary(memory.content, room) + tags).slice(0, EMBEDDING_TEXT_MAX_CHARS);
}

/**
 * `text` cut to at most `maxChars` characters at the last whitespace (mid-word when that would
 * lose more than a fifth of the room), never splitting a surrogate pair.
 */
function cutAtWordBoundary(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let cut = maxChars;
  // A low surrogate at the cut would leave half a character behind.
  if (cut > 0 && /[\uDC00-\uDFFF]/.test(text.charAt(cut))) cut--;
  const head = text.slice(0, cut);
  if (/\s/.test(text.charAt(cut))) return head.trimEnd();
  const space = head.search(/\s\S*$/);
  return (space >= cut * 0.8 ? head.slice(0, space) : head).trimEnd();
}

/** A memory about to be stored: everything but the id the store assigns. */
export type NewMemory = Omit<Memory, 'id'>;
