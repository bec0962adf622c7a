/**
 * `maestro.v1.MemoryService` over gRPC: validates each request, asks the `MemoryStore` and
 * maps memories to their proto form. Bad input is thrown as a `UserError` naming the field;
 * the runtime turns it into INVALID_ARGUMENT.
 */
import type { Memory as MemoryMessage, MemoryServiceServer } from '@maestro/contracts';
import { unary } from '@maestro/runtime';
import { validateList, validateMemoryId, validateRecall, validateRemember } from '../../domain/memory.js';
import type { Memory } from '../../domain/memory.js';
import type { MemoryStore } from '../../store/memory-store.js';

/** Converts a domain memory into the `maestro.v1.Memory` message. */
export function toMemoryMessage(memory: Memory): MemoryMessage {
  return {
    id: memory.id,
    project: memory.project,
    kind: memory.kind,
    content: memory.content,
    tags: [...memory.tags],
    createdAt: memory.createdAt,
  };
}

/**
 * Creates the MemoryService implementation to register with `GrpcServer.add` (whose `unary`
 * has already refused NUL characters in the request, naming the field).
 */
export function createMemoryServiceHandlers({ store }: { store: MemoryStore }): MemoryServiceServer {
  return {
    remember: unary(async (request, ctx) => {
      const memory = await store.remember(validateRemember(request));
      ctx.logger.info('memory remembered', { id: memory.id, project: memory.project, kind: memory.kind });
      return toMemoryMessage(memory);
    }),

    recall: unary(async (request, ctx) => {
      const spec = validateRecall(request);
      const results = await store.recall(spec);
      ctx.logger.debug('memories recalled', {
        project: spec.project,
        kind: spec.kind,
        count: results.length,
        fallback: results.length > 0 && results.every((r) => r.score === 0),
      });
      return { memories: results.map((r) => ({ memory: toMemoryMessage(r.memory), score: r.score })) };
    }),

    forget: unary(async (request, ctx) => {
      const id = validateMemoryId(request.id);
      const forgotten = await store.forget(id);
      ctx.logger.info('memory forgotten', { id, forgotten });
      return { forgotten };
    }),

    list: unary(async (request) => {
      const memories = await store.list(validateList(request));
      return { memories: memories.map(toMemoryMessage) };
    }),
  };
}
