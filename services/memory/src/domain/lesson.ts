/**
 * Learn's rules: a lesson from a verified outcome becomes a reflex, merges into a duplicate, or
 * supersedes the reflexes it contradicts. Two lessons are about the same thing when their
 * topics match (case and spacing aside); on the same topic they are duplicates when their
 * wording is near-identical (most distinctive words shared), otherwise the newer one wins and
 * the older ones are kept as history (`superseded`), never deleted.
 */
import { invalidField, ownerTenant, tenantScope } from '@maestro/runtime';
import { confirmedConfidence, reflexExpiry } from './confidence.js';
import type { ReflexPolicy } from './confidence.js';
import { requireContent, requireProject, requireTags } from './field-rules.js';
import { MemoryKinds, MemoryLimits, MemoryStatuses } from './memory.js';
import type { Memory, MemoryProvenance, NewMemory } from './memory.js';
import { PROJECT_SCOPE } from './memory-scope.js';

/** What Learn did. */
export const LearnOutcomes = {
  created: 'created',
  /** Merged into a near-identical reflex on the same topic (which is returned). */
  merged: 'merged',
  /** Created, and the contradicted reflexes on the same topic superseded by it. */
  superseded: 'superseded',
} as const;
/** One of {@link LearnOutcomes}. */
export type LearnOutcome = (typeof LearnOutcomes)[keyof typeof LearnOutcomes];

/** A validated Learn. */
export interface LearnSpec {
  /** The tenant the reflex belongs to: merges and supersedes look within it only. */
  readonly tenant: string;
  readonly project: string;
  readonly content: string;
  /** Trimmed, inner whitespace collapsed. */
  readonly topic: string;
  /** `confirmedBy` is Learn's own bookkeeping: what the caller sent there is ignored. */
  readonly provenance: MemoryProvenance;
  /** The first confidence; undefined means the policy's initial one. */
  readonly confidence: number | undefined;
  readonly author: string;
  readonly tags: readonly string[];
}

/** What Learn will do to the store, decided from the active reflexes on the same topic. */
export type LessonPlan =
  | {
      readonly action: 'merge';
      readonly into: Memory;
      readonly changes: Pick<Memory, 'confidence' | 'confirmations' | 'confirmedAt' | 'expiresAt' | 'provenance' | 'tags' | 'updatedAt'>;
      /** Other reflexes on the topic that the merged lesson contradicts. */
      readonly supersede: readonly string[];
    }
  | {
      readonly action: 'create';
      readonly memory: NewMemory;
      readonly supersede: readonly string[];
    };

/** Share of distinctive words two wordings must have in common to be one lesson. */
export const DUPLICATE_SIMILARITY = 0.7;

// Authors of learned lessons: the rule, the strategic model that worded it, or a scripted reply
// (never presented as a model's).
const authorPattern = /^(rule|model:[^\s/]+\/\S+|scripted:\S+)$/;

/** Checks a Learn request. */
export function validateLearn(input: {
  tenant?: string;
  project: string;
  content: string;
  topic: string;
  provenance: Partial<MemoryProvenance> | undefined;
  confidence: number;
  author: string;
  tags: readonly string[];
}): LearnSpec {
  const tenant = ownerTenant(tenantScope(input.tenant));
  const project = requireProject(input.project);
  const content = requireContent(input.content);
  const topic = normaliseSpaces(input.topic);
  if (topic === '') throw invalidField('topic', 'is required: the failure the lesson answers (failing tests, error, files)');
  if (topic.length > MemoryLimits.maxTopicLength) {
    throw invalidField('topic', `must be at most ${MemoryLimits.maxTopicLength} characters, got ${topic.length}`);
  }
  if (input.author.length > MemoryLimits.maxAuthorLength || !authorPattern.test(input.author)) {
    throw invalidField('author', `must be "rule", "model:<provider>/<model>" or "scripted:<name>", got "${input.author}"`);
  }
  const confidence = input.confidence;
  if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
    throw invalidField('confidence', `must be from 0 to 1 (0 for the default), got ${confidence}`);
  }
  return {
    tenant,
    project,
    content,
    topic,
    provenance: validateProvenance(input.provenance),
    confidence: confidence === 0 ? undefined : confidence,
    author: input.author,
    tags: requireTags(input.tags),
  };
}

/**
 * Decides what to do with `spec` given `existing`, the project's active reflexes on the same
 * topic (see {@link sameTopic}). The most similar near-identical one absorbs the lesson; any
 * other reflex on the topic says something different and is superseded.
 */
export function planLesson(existing: readonly Memory[], spec: LearnSpec, now: Date, policy: ReflexPolicy): LessonPlan {
  const onTopic = existing.filter((m) => m.status === MemoryStatuses.active && sameTopic(m.topic, spec.topic));
  let best: { memory: Memory; similarity: number } | undefined;
  for (const memory of onTopic) {
    const similarity = lessonSimilarity(memory.content, spec.content);
    if (similarity >= DUPLICATE_SIMILARITY && (best === undefined || similarity > best.similarity)) best = { memory, similarity };
  }
  if (best !== undefined) {
    const into = best.memory;
    const taskId = spec.provenance.taskId;
    const confirmedBy = [...(into.provenance?.confirmedBy ?? [])];
    // The same task told twice (a retried call) is one outcome, not a confirmation.
    const counted = into.provenance?.taskId === taskId || confirmedBy.includes(taskId);
    if (!counted) confirmedBy.push(taskId);
    const provenance: MemoryProvenance = { ...(into.provenance ?? spec.provenance), confirmedBy };
    return {
      action: 'merge',
      into,
      changes: {
        confidence: counted ? into.confidence : confirmedConfidence(into.confidence, policy),
        confirmations: counted ? into.confirmations : into.confirmations + 1,
        confirmedAt: counted ? into.confirmedAt : now,
        expiresAt: counted ? into.expiresAt : reflexExpiry(now, policy),
        provenance,
        tags: [...new Set([...into.tags, ...spec.tags])].slice(0, MemoryLimits.maxTags),
        updatedAt: now,
      },
      supersede: onTopic.filter((m) => m.id !== into.id).map((m) => m.id),
    };
  }
  return {
    action: 'create',
    memory: {
      tenant: spec.tenant,
      project: spec.project,
      kind: MemoryKinds.reflex,
      content: spec.content,
      tags: spec.tags,
      scope: PROJECT_SCOPE,
      pinned: false,
      status: MemoryStatuses.active,
      supersededBy: undefined,
      confidence: spec.confidence ?? policy.initialConfidence,
      expiresAt: reflexExpiry(now, policy),
      createdAt: now,
      updatedAt: now,
      provenance: { ...spec.provenance, confirmedBy: [] },
      topic: spec.topic,
      confirmations: 1,
      author: spec.author,
      confirmedAt: now,
    },
    supersede: onTopic.map((m) => m.id),
  };
}

/** The outcome a plan reports. */
export function outcomeOf(plan: LessonPlan): LearnOutcome {
  if (plan.action === 'merge') return LearnOutcomes.merged;
  return plan.supersede.length > 0 ? LearnOutcomes.superseded : LearnOutcomes.created;
}

/** The key topics are compared by: lower case, spaces collapsed. */
export function topicKey(topic: string): string {
  return normaliseSpaces(topic).toLowerCase();
}

/** True when two topics name the same subject. */
export function sameTopic(a: string, b: string): boolean {
  return topicKey(a) === topicKey(b);
}

// Words that say nothing about a lesson's substance; leaving them out keeps "the tests need
// TZ=UTC" and "tests need TZ=UTC set" together.
const fillerWords = new Set(
  'a an and are as at be by do for from has have in is it its of on or set so that the this to was were when with'.split(' '),
);

/** Jaccard similarity of the two wordings' distinctive words (0..1). */
export function lessonSimilarity(a: string, b: string): number {
  const wa = distinctiveWords(a);
  const wb = distinctiveWords(b);
  if (wa.size === 0 && wb.size === 0) return 1;
  let shared = 0;
  for (const w of wa) if (wb.has(w)) shared++;
  return shared / (wa.size + wb.size - shared);
}

function distinctiveWords(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(words.filter((w) => !fillerWords.has(w)));
}

function normaliseSpaces(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

function validateProvenance(input: Partial<MemoryProvenance> | undefined): MemoryProvenance {
  if (input === undefined) throw invalidField('provenance', 'is required: a lesson comes from a verified outcome (task, commit, tests)');
  const id = (field: keyof MemoryProvenance, required: boolean): string => {
    const value = ((input[field] as string | undefined) ?? '').trim();
    if (required && value === '') throw invalidField(`provenance.${snake(field)}`, 'is required');
    if (value.length > MemoryLimits.maxProvenanceIdLength) {
      throw invalidField(`provenance.${snake(field)}`, `must be at most ${MemoryLimits.maxProvenanceIdLength} characters, got ${value.length}`);
    }
    return value;
  };
  const text = (field: 'testEvidence' | 'fix'): string => {
    const value = input[field] ?? '';
    if (value.length > MemoryLimits.maxProvenanceTextLength) {
      throw invalidField(`provenance.${snake(field)}`, `must be at most ${MemoryLimits.maxProvenanceTextLength} characters, got ${value.length}`);
    }
    return value;
  };
  const list = (field: 'failingTests' | 'files'): string[] => {
    const values = input[field] ?? [];
    if (values.length > MemoryLimits.maxProvenanceListItems) {
      throw invalidField(`provenance.${snake(field)}`, `must have at most ${MemoryLimits.maxProvenanceListItems} entries, got ${values.length}`);
    }
    values.forEach((value, i) => {
      if (value.length > MemoryLimits.maxProvenanceListItemLength) {
        throw invalidField(
          `provenance.${snake(field)}[${i}]`,
          `must be at most ${MemoryLimits.maxProvenanceListItemLength} characters, got ${value.length}`,
        );
      }
    });
    return [...values];
  };
  return {
    taskId: id('taskId', true),
    subtaskId: id('subtaskId', false),
    commitSha: id('commitSha', false),
    testEvidence: text('testEvidence'),
    failingTests: list('failingTests'),
    failureKind: id('failureKind', false),
    fix: text('fix'),
    files: list('files'),
    confirmedBy: [],
  };
}

/** `taskId` → `task_id`, as the proto and the HTTP API name the field. */
function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
