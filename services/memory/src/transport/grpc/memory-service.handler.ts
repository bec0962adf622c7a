/**
 * `maestro.v1.MemoryService` over gRPC: validates each request (bad input is a `UserError`
 * naming the field, which the runtime turns into INVALID_ARGUMENT), asks the `MemoryService`
 * and maps the answer to its proto form.
 */
import type { MemoryServiceServer } from '@maestro/contracts';
import { unary } from '@maestro/runtime';
import type { Clock } from '@maestro/runtime';
import type { MemoryService } from '../../app/memory-service.js';
import { validateLearn } from '../../domain/lesson.js';
import { validateForget, validateList, validateRecall, validateRemember, validateUpdate } from '../../domain/memory-requests.js';
import { toMemoryMessage, toScoredMemoryMessage } from './memory-mapper.js';

/**
 * Creates the MemoryService implementation to register with `GrpcServer.add` (whose `unary`
 * has already refused NUL characters in the request, naming the field).
 */
export function createMemoryServiceHandlers({ memory, clock }: { memory: MemoryService; clock: Clock }): MemoryServiceServer {
  const now = (): Date => new Date(clock.now());
  return {
    remember: unary(async (request, ctx) => {
      const stored = await memory.remember(validateRemember(request, now()), ctx.logger);
      ctx.logger.info('memory remembered', { id: stored.id, tenant: stored.tenant, project: stored.project, kind: stored.kind, scope: stored.scope });
      return toMemoryMessage(stored);
    }),

    recall: unary(async (request, ctx) => {
      const spec = validateRecall(request);
      const result = await memory.recall(spec, ctx.logger);
      ctx.logger.debug('memories recalled', {
        project: spec.project,
        kind: spec.kind,
        count: result.hits.length,
        vectorSearch: result.vectorSearch,
        degraded: result.warning !== '',
      });
      return { memories: result.hits.map(toScoredMemoryMessage), warning: result.warning, vectorSearch: result.vectorSearch };
    }),

    forget: unary(async (request, ctx) => {
      const spec = validateForget(request);
      const forgotten = await memory.forget(spec);
      ctx.logger.info('memory forgotten', { id: spec.id, forgotten });
      return { forgotten };
    }),

    list: unary(async (request) => {
      const memories = await memory.list(validateList(request));
      return { memories: memories.map(toMemoryMessage) };
    }),

    update: unary(async (request, ctx) => {
      const spec = validateUpdate(request, now());
      const updated = await memory.update(spec, ctx.logger);
      ctx.logger.info('memory updated', { id: updated.id, fields: Object.keys(spec).filter((k) => k !== 'id' && k !== 'tenant') });
      return toMemoryMessage(updated);
    }),

    learn: unary(async (request, ctx) => {
      const answer = await memory.learn(validateLearn(request), ctx.logger);
      ctx.logger.info('lesson learned', {
        id: answer.memory.id,
        project: answer.memory.project,
        outcome: answer.outcome,
        supersededIds: answer.supersededIds,
        author: answer.memory.author,
      });
      return { memory: toMemoryMessage(answer.memory), outcome: answer.outcome, supersededIds: [...answer.supersededIds] };
    }),
  };
}
