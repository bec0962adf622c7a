/**
 * The checks every memory request shares (project, kind, content, tags, limit, expiry), each
 * throwing an INVALID_ARGUMENT `UserError` that names the field and says what is allowed.
 */
import { invalidField } from '@maestro/runtime';
import { isMemoryKind, MemoryLimits, memoryKindList } from './memory.js';
import type { MemoryKind } from './memory.js';

/** A project name: required, trimmed, at most 512 characters. */
export function requireProject(project: string): string {
  const trimmed = project.trim();
  if (trimmed.length === 0) throw invalidField('project', 'is required');
  if (trimmed.length > MemoryLimits.maxProjectLength) {
    throw invalidField('project', `must be at most ${MemoryLimits.maxProjectLength} characters, got ${trimmed.length}`);
  }
  return trimmed;
}

/** A memory kind. */
export function requireKind(kind: string): MemoryKind {
  if (!isMemoryKind(kind)) throw invalidField('kind', `must be one of ${memoryKindList}, got "${kind}"`);
  return kind;
}

/** A kind filter: empty means every kind. */
export function optionalKind(kind: string): MemoryKind | undefined {
  return kind === '' ? undefined : requireKind(kind);
}

/** Content: not blank, at most 20 000 characters (kept as given, untrimmed). */
export function requireContent(content: string, field = 'content'): string {
  if (content.trim().length === 0) throw invalidField(field, 'must not be empty');
  if (content.length > MemoryLimits.maxContentLength) {
    throw invalidField(
      field,
      `must be at most ${MemoryLimits.maxContentLength} characters, got ${content.length}; split it into several memories`,
    );
  }
  return content;
}

/** Tags: at most 20 of at most 64 characters each, trimmed, duplicates dropped, order kept. */
export function requireTags(input: readonly string[]): string[] {
  if (input.length > MemoryLimits.maxTags) {
    throw invalidField('tags', `must be at most ${MemoryLimits.maxTags} tags, got ${input.length}`);
  }
  const tags: string[] = [];
  input.forEach((raw, i) => {
    const tag = raw.trim();
    if (tag.length === 0) throw invalidField(`tags[${i}]`, 'must not be empty');
    if (tag.length > MemoryLimits.maxTagLength) {
      throw invalidField(`tags[${i}]`, `must be at most ${MemoryLimits.maxTagLength} characters, got ${tag.length}`);
    }
    if (!tags.includes(tag)) tags.push(tag);
  });
  return tags;
}

/** A page size: 0 (unset in proto) means `fallback`; otherwise an integer from 1 to `max`. */
export function limitOf(limit: number, fallback: number, max: number): number {
  if (limit === 0) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw invalidField('limit', `must be an integer from 1 to ${max} (0 for the default, ${fallback}), got ${limit}`);
  }
  return limit;
}

/** An expiry: unset means never; when set it must be a valid time after `now`. */
export function futureExpiry(expiresAt: Date | undefined, now: Date): Date | undefined {
  if (expiresAt === undefined) return undefined;
  if (Number.isNaN(expiresAt.getTime())) throw invalidField('expires_at', 'must be a valid time');
  if (expiresAt.getTime() <= now.getTime()) {
    throw invalidField('expires_at', `must be in the future, got ${expiresAt.toISOString()} (now ${now.toISOString()})`);
  }
  return expiresAt;
}
