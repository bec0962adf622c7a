/**
 * What agents remember, and the rules a request must meet before the store sees it. Pure: no
 * I/O. Every rejection is an INVALID_ARGUMENT `UserError` naming the field at fault.
 */
import { invalidField } from '@maestro/runtime';

/** The kinds of memory. */
export const MemoryKinds = {
  /** How the user likes things done ("use pnpm", "no default exports"). */
  preference: 'preference',
  /** Facts about the project (layout, conventions, where things live). */
  project: 'project',
  /** Lessons learned from past work ("tests need Redis running"). */
  reflex: 'reflex',
} as const;
/** One of {@link MemoryKinds}. */
export type MemoryKind = (typeof MemoryKinds)[keyof typeof MemoryKinds];

/** One remembered note. */
export interface Memory {
  readonly id: string;
  readonly project: string;
  readonly kind: MemoryKind;
  readonly content: string;
  readonly tags: readonly string[];
  readonly createdAt: Date;
}

/** A memory with how well it matched a recall query (0 for a most-recent fallback). */
export interface ScoredMemory {
  readonly memory: Memory;
  readonly score: number;
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
  /** Longest recall query, in characters. */
  maxQueryLength: 2_000,
  /** Recall results when no limit is given. */
  defaultRecallLimit: 5,
  /** Most recall results. */
  maxRecallLimit: 50,
  /** List results when no limit is given. */
  defaultListLimit: 50,
  /** Most list results. */
  maxListLimit: 200,
} as const;

/** A validated Remember. */
export interface RememberSpec {
  readonly project: string;
  readonly kind: MemoryKind;
  readonly content: string;
  /** Trimmed, distinct, in the order given. */
  readonly tags: readonly string[];
}

/** A validated Recall. */
export interface RecallSpec {
  readonly project: string;
  /** Free text in web-search syntax (`"exact phrase"`, `-not`, `or`); may be empty. */
  readonly query: string;
  readonly limit: number;
  /** Only this kind when set. */
  readonly kind: MemoryKind | undefined;
}

/** A validated List: a project's memories, newest first. */
export interface ListSpec {
  readonly project: string;
  readonly kind: MemoryKind | undefined;
  readonly limit: number;
}

const kinds: readonly string[] = Object.values(MemoryKinds);
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` names a memory kind. */
export function isMemoryKind(value: string): value is MemoryKind {
  return kinds.includes(value);
}

/** Checks a Remember request; tags are trimmed and de-duplicated. */
export function validateRemember(input: {
  project: string;
  kind: string;
  content: string;
  tags: readonly string[];
}): RememberSpec {
  const project = requireProject(input.project);
  const kind = requireKind(input.kind);
  if (input.content.trim().length === 0) throw invalidField('content', 'must not be empty');
  if (input.content.length > MemoryLimits.maxContentLength) {
    throw invalidField(
      'content',
      `must be at most ${MemoryLimits.maxContentLength} characters, got ${input.content.length}; split it into several memories`,
    );
  }
  if (input.tags.length > MemoryLimits.maxTags) {
    throw invalidField('tags', `must be at most ${MemoryLimits.maxTags} tags, got ${input.tags.length}`);
  }
  const tags: string[] = [];
  input.tags.forEach((raw, i) => {
    const tag = raw.trim();
    if (tag.length === 0) throw invalidField(`tags[${i}]`, 'must not be empty');
    if (tag.length > MemoryLimits.maxTagLength) {
      throw invalidField(`tags[${i}]`, `must be at most ${MemoryLimits.maxTagLength} characters, got ${tag.length}`);
    }
    if (!tags.includes(tag)) tags.push(tag);
  });
  return { project, kind, content: input.content, tags };
}

/** Checks a Recall request; a limit of 0 (unset in proto) means the default, 5. */
export function validateRecall(input: { project: string; query: string; limit: number; kind: string }): RecallSpec {
  const project = requireProject(input.project);
  if (input.query.length > MemoryLimits.maxQueryLength) {
    throw invalidField('query', `must be at most ${MemoryLimits.maxQueryLength} characters, got ${input.query.length}`);
  }
  return {
    project,
    query: input.query.trim(),
    limit: limitOf(input.limit, MemoryLimits.defaultRecallLimit, MemoryLimits.maxRecallLimit),
    kind: optionalKind(input.kind),
  };
}

/** Checks a List request; a limit of 0 (unset in proto) means the default, 50. */
export function validateList(input: { project: string; kind: string; limit: number }): ListSpec {
  return {
    project: requireProject(input.project),
    kind: optionalKind(input.kind),
    limit: limitOf(input.limit, MemoryLimits.defaultListLimit, MemoryLimits.maxListLimit),
  };
}

/** Checks a memory id (a UUID, as Remember returns). */
export function validateMemoryId(id: string): string {
  const trimmed = id.trim();
  if (trimmed.length === 0) throw invalidField('id', 'is required');
  if (!uuid.test(trimmed)) throw invalidField('id', `must be a memory id (a UUID), got "${id}"`);
  return trimmed.toLowerCase();
}

function requireProject(project: string): string {
  const trimmed = project.trim();
  if (trimmed.length === 0) throw invalidField('project', 'is required');
  if (trimmed.length > MemoryLimits.maxProjectLength) {
    throw invalidField('project', `must be at most ${MemoryLimits.maxProjectLength} characters, got ${trimmed.length}`);
  }
  return trimmed;
}

function requireKind(kind: string): MemoryKind {
  if (!isMemoryKind(kind)) {
    throw invalidField('kind', `must be one of ${kinds.join(', ')}, got "${kind}"`);
  }
  return kind;
}

function optionalKind(kind: string): MemoryKind | undefined {
  return kind === '' ? undefined : requireKind(kind);
}

function limitOf(limit: number, fallback: number, max: number): number {
  if (limit === 0) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw invalidField('limit', `must be an integer from 1 to ${max} (0 for the default, ${fallback}), got ${limit}`);
  }
  return limit;
}
