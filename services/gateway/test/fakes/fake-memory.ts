/**
 * The memory service as the gateway sees it (MemoryApi), in process: memories in a list,
 * recalled by keyword (ranked like the real fusion's keyword side; no vector search), listed,
 * updated, forgotten. Refuses what the real one refuses (unknown id, an expiry in the past).
 */
import {
  Memory,
  type ForgetRequest,
  type ForgetResponse,
  type ListMemoriesRequest,
  type ListMemoriesResponse,
  type RecallRequest,
  type RecallResponse,
  type RememberRequest,
  type UpdateMemoryRequest,
} from '@maestro/contracts';
import { invalidField, notFound, type Clock } from '@maestro/runtime';
import type { MemoryApi } from '../../src/ports.js';

/** An in-process memory service for gateway tests. */
export class FakeMemory implements MemoryApi {
  readonly memories: Memory[] = [];

  constructor(private readonly clock: Clock) {}

  async remember(request: RememberRequest): Promise<Memory> {
    const now = new Date(this.clock.now());
    if (request.expiresAt !== undefined && request.expiresAt <= now) throw invalidField('expires_at', 'must be in the future');
    const memory = Memory.fromPartial({
      id: `0b8e5c0e-1a8f-4c4b-9d7a-${String(this.memories.length + 1).padStart(12, '0')}`,
      tenant: request.tenant,
      project: request.project,
      kind: request.kind,
      content: request.content,
      tags: request.tags,
      scope: request.scope || 'project',
      pinned: request.pinned,
      status: 'active',
      confidence: 1,
      author: 'person',
      createdAt: now,
      updatedAt: now,
      ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
    });
    this.memories.push(memory);
    return memory;
  }

  async recall(request: RecallRequest): Promise<RecallResponse> {
    const words = request.query.toLowerCase().split(/\W+/).filter((w) => w.length > 0);
    const scopes = new Set(['project', ...request.scopes]);
    const hits = this.memories
      .filter((m) => m.project === request.project && m.status === 'active' && scopes.has(m.scope))
      .filter((m) => request.kind === '' || m.kind === request.kind)
      .map((m) => ({ m, matches: words.filter((w) => m.content.toLowerCase().includes(w)).length }))
      .filter((h) => h.matches > 0)
      .sort((a, b) => b.matches - a.matches)
      .slice(0, request.limit || 10);
    return {
      memories: hits.map((h, i) => ({ memory: h.m, score: 1 / (60 + i + 1), why: `keyword rank ${i + 1}`, keywordRank: i + 1, vectorRank: 0 })),
      warning: 'no embedder configured: keyword search only',
      vectorSearch: 'none',
    };
  }

  async list(request: ListMemoriesRequest): Promise<ListMemoriesResponse> {
    return {
      memories: this.memories
        .filter((m) => m.project === request.project && (request.includeInactive || m.status === 'active'))
        .filter((m) => (request.kind === '' || m.kind === request.kind) && (request.scope === '' || m.scope === request.scope))
        .slice(0, request.limit || 50),
    };
  }

  async update(request: UpdateMemoryRequest): Promise<Memory> {
    const memory = this.memories.find((m) => m.id === request.id);
    if (!memory) throw notFound('memory', request.id, 'MEMORY_NOT_FOUND');
    if (request.content !== undefined) memory.content = request.content;
    if (request.pinned !== undefined) memory.pinned = request.pinned;
    if (request.status !== undefined) memory.status = request.status;
    if (request.setTags) memory.tags = request.tags;
    if (request.expiresAt !== undefined) memory.expiresAt = request.expiresAt;
    if (request.clearExpiry) memory.expiresAt = undefined;
    memory.updatedAt = new Date(this.clock.now());
    return memory;
  }

  async forget(request: ForgetRequest): Promise<ForgetResponse> {
    const i = this.memories.findIndex((m) => m.id === request.id);
    if (i >= 0) this.memories.splice(i, 1);
    return { forgotten: i >= 0 };
  }
}
