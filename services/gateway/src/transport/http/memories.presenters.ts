/**
 * The public JSON shapes of memories and recall answers. Written out field by field from the
 * memory service's messages, so a proto change never silently changes the HTTP API; times are
 * ISO-8601 strings or null, and proto3's "unset" values (empty strings, rank 0) become null.
 */
import type { Memory, MemoryProvenance, RecallResponse, ScoredMemory } from '@maestro/contracts';

/** Where a learned reflex came from. */
export interface MemoryProvenanceJson {
  taskId: string;
  subtaskId: string;
  commitSha: string;
  testEvidence: string;
  failingTests: string[];
  failureKind: string;
  fix: string;
  files: string[];
  /** Later outcomes merged into it (task ids), oldest first. */
  confirmedBy: string[];
}

/** A memory as the HTTP API shows it. */
export interface MemoryJson {
  id: string;
  /** The tenant the memory belongs to. */
  tenant: string;
  project: string;
  /** `preference`, `project` or `reflex`. */
  kind: string;
  content: string;
  tags: string[];
  /** `project`, `user:<id>` or `team:<id>`. */
  scope: string;
  pinned: boolean;
  /** `active`, `retired` or `superseded`. */
  status: string;
  /** The memory that superseded it; null unless superseded. */
  supersededBy: string | null;
  /** 0..1 as stored (1 for what a person wrote); recall also decays a learned reflex's by age. */
  confidence: number;
  expiresAt: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  /** A learned reflex's subject; null for what a person wrote. */
  topic: string | null;
  confirmations: number;
  /** `person`, `rule`, `model:<provider>/<model>` or `scripted:<name>`. */
  author: string;
  provenance: MemoryProvenanceJson | null;
}

/** One recall hit. */
export interface ScoredMemoryJson {
  memory: MemoryJson | null;
  /** Reciprocal rank fusion of the two ranks, times confidence; 0 for a pinned or recent stand-in. */
  score: number;
  /** Why it matched, for people ("keyword rank 1 (ts_rank 0.100); vector rank 2 (cosine 0.71)"). */
  why: string;
  /** 1-based rank in the keyword list; null when keyword search did not find it. */
  keywordRank: number | null;
  /** 1-based rank in the vector list; null when vector search did not find it. */
  vectorRank: number | null;
}

/** The answer of `GET /v1/memories?query=…`. */
export interface RecallJson {
  memories: ScoredMemoryJson[];
  /** `pgvector`, `exact-scan`, or `none` (keyword search only). */
  vectorSearch: string;
  /** Present when recall was degraded (the embedder is down), saying why. */
  warning?: string;
}

function iso(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}

function orNull(text: string): string | null {
  return text === '' ? null : text;
}

function toProvenanceJson(p: MemoryProvenance): MemoryProvenanceJson {
  return {
    taskId: p.taskId,
    subtaskId: p.subtaskId,
    commitSha: p.commitSha,
    testEvidence: p.testEvidence,
    failingTests: p.failingTests,
    failureKind: p.failureKind,
    fix: p.fix,
    files: p.files,
    confirmedBy: p.confirmedBy,
  };
}

/** Converts the memory service's Memory message into the public JSON. */
export function toMemoryJson(memory: Memory): MemoryJson {
  return {
    id: memory.id,
    tenant: memory.tenant,
    project: memory.project,
    kind: memory.kind,
    content: memory.content,
    tags: memory.tags,
    scope: memory.scope,
    pinned: memory.pinned,
    status: memory.status,
    supersededBy: orNull(memory.supersededBy),
    confidence: memory.confidence,
    expiresAt: iso(memory.expiresAt),
    createdAt: iso(memory.createdAt),
    updatedAt: iso(memory.updatedAt),
    topic: orNull(memory.topic),
    confirmations: memory.confirmations,
    author: memory.author,
    provenance: memory.provenance ? toProvenanceJson(memory.provenance) : null,
  };
}

/** Converts one recall hit into the public JSON. */
export function toScoredMemoryJson(scored: ScoredMemory): ScoredMemoryJson {
  return {
    memory: scored.memory ? toMemoryJson(scored.memory) : null,
    score: scored.score,
    why: scored.why,
    keywordRank: scored.keywordRank > 0 ? scored.keywordRank : null,
    vectorRank: scored.vectorRank > 0 ? scored.vectorRank : null,
  };
}

/** Converts a recall answer into the public JSON (`warning` only when there is one). */
export function toRecallJson(response: RecallResponse): RecallJson {
  return {
    memories: response.memories.map(toScoredMemoryJson),
    vectorSearch: response.vectorSearch,
    ...(response.warning !== '' ? { warning: response.warning } : {}),
  };
}
