/**
 * The memory service as far as the gateway can tell: a real gRPC server (`MemoryServiceService`)
 * keeping memories in a list, recording what each call asked for, and refusing bad input the way
 * the real one does (a UserError naming the proto field, `expires_at`, `scopes[1]`), so the
 * gateway's field renaming and status mapping are exercised end to end.
 */
import type {
  ForgetRequest,
  LearnRequest,
  ListMemoriesRequest,
  Memory,
  MemoryServiceServer,
  RecallRequest,
  RememberRequest,
  UpdateMemoryRequest,
} from '@maestro/contracts';
import { invalidField, notFound, unary, UserError } from '@maestro/runtime';

/** An in-memory MemoryService for gateway tests. */
export class FakeMemoryService {
  readonly memories: Memory[] = [];
  readonly recalls: RecallRequest[] = [];
  readonly lists: ListMemoriesRequest[] = [];
  readonly updates: UpdateMemoryRequest[] = [];
  /** The recall answer's `warning` (set it to play an embedder outage). */
  warning = '';

  constructor(private readonly now: Date) {}

  /** The handlers to register with `GrpcServer.add(MemoryServiceService, …)`. */
  handlers(): MemoryServiceServer {
    return {
      remember: unary(async (req: RememberRequest) => this.remember(req)),
      recall: unary(async (req: RecallRequest) => this.recall(req)),
      list: unary(async (req: ListMemoriesRequest) => {
        this.lists.push(req);
        return {
          memories: this.memories
            .filter((m) => m.project === req.project && (req.includeInactive || m.status === 'active') && (req.scope === '' || m.scope === req.scope))
            .slice(0, req.limit || 50),
        };
      }),
      update: unary(async (req: UpdateMemoryRequest) => this.update(req)),
      forget: unary(async (req: ForgetRequest) => {
        const i = this.memories.findIndex((m) => m.id === req.id);
        if (i >= 0) this.memories.splice(i, 1);
        return { forgotten: i >= 0 };
      }),
      learn: unary(async (_req: LearnRequest) => {
        throw new UserError('UNIMPLEMENTED_IN_FAKE', 'the gateway never calls Learn');
      }),
    };
  }

  private remember(req: RememberRequest): Memory {
    if (req.expiresAt !== undefined && req.expiresAt.getTime() <= this.now.getTime()) {
      throw invalidField('expires_at', `must be in the future, got ${req.expiresAt.toISOString()}`);
    }
    const memory: Memory = {
      id: `0b8e5c0e-1a8f-4c4b-9d7a-${String(this.memories.length + 1).padStart(12, '0')}`,
      tenant: req.tenant,
      project: req.project,
      kind: req.kind,
      content: req.content,
      tags: req.tags,
      createdAt: this.now,
      scope: req.scope || 'project',
      pinned: req.pinned,
      status: 'active',
      supersededBy: '',
      confidence: 1,
      expiresAt: req.expiresAt,
      updatedAt: this.now,
      provenance: undefined,
      topic: '',
      confirmations: 0,
      author: 'person',
    };
    this.memories.push(memory);
    return memory;
  }

  private recall(req: RecallRequest) {
    this.recalls.push(req);
    if (req.limit > 50) throw invalidField('limit', `must be an integer from 1 to 50 (0 for the default, 5), got ${req.limit}`);
    req.scopes.forEach((scope, i) => {
      if (!/^(project|(user|team):[^\s,:]+)$/.test(scope)) throw invalidField(`scopes[${i}]`, `must be "project", "user:<id>" or "team:<id>", got "${scope}"`);
    });
    const scopes = ['project', ...req.scopes];
    const hits = this.memories.filter(
      (m) => m.project === req.project && m.status === 'active' && scopes.includes(m.scope) && m.content.includes(req.query),
    );
    return {
      memories: hits.slice(0, req.limit || 5).map((memory, i) => ({
        memory,
        score: 1 / (61 + i),
        why: `keyword rank ${i + 1} (ts_rank 0.100)`,
        keywordRank: i + 1,
        vectorRank: 0,
      })),
      warning: this.warning,
      vectorSearch: this.warning === '' ? 'exact-scan' : 'none',
    };
  }

  private update(req: UpdateMemoryRequest): Memory {
    this.updates.push(req);
    const i = this.memories.findIndex((m) => m.id === req.id);
    if (i < 0) throw notFound('memory', req.id, 'MEMORY_NOT_FOUND');
    const m = this.memories[i]!;
    const updated: Memory = {
      ...m,
      ...(req.content !== undefined ? { content: req.content } : {}),
      ...(req.pinned !== undefined ? { pinned: req.pinned } : {}),
      ...(req.status !== undefined ? { status: req.status } : {}),
      ...(req.setTags ? { tags: req.tags } : {}),
      ...(req.expiresAt !== undefined ? { expiresAt: req.expiresAt } : {}),
      ...(req.clearExpiry ? { expiresAt: undefined } : {}),
    };
    this.memories[i] = updated;
    return updated;
  }
}
