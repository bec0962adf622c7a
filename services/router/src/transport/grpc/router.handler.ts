/**
 * The `maestro.v1.RouterService` handlers: Route (the decision only), Complete and
 * StreamComplete (through the {@link CompletionService}), ClassifyIntent, GetTaskUsage,
 * ListTaskUsageTotals and GetModelStats. Translation between proto and plain types only; no decisions here.
 */
import type {
  ClassifyIntentRequest,
  CompleteChunk,
  CompleteRequest,
  CompleteResponse,
  GetModelStatsRequest,
  GetTaskUsageRequest,
  IntentClassification,
  ListTaskUsageTotalsRequest,
  ListTaskUsageTotalsResponse,
  ModelStats,
  RouteDecision as ProtoRouteDecision,
  RouteRequest,
  RouterServiceServer,
  TaskUsage,
  UsageTotals as ProtoUsageTotals,
} from '@maestro/contracts';
import { invalidField, serverStream, setActiveSpanAttributes, TraceAttributes, unary } from '@maestro/runtime';
import { toProtoMessage } from '@maestro/llm';
import type { CompletionService, SettledCompletion } from '../../app/completion-service.js';
import type { IntentService } from '../../app/intent-service.js';
import type { RouteDecision } from '../../domain/routing.js';
import { Phases } from '../../domain/routing-policy.js';
import type { UsageLedger, UsageTotals } from '../../store/usage-ledger.js';

/** What the handlers need. */
export interface RouterHandlerDeps {
  completions: CompletionService;
  intents: IntentService;
  ledger: UsageLedger;
}

/** Request limits of the RouterService, in one place. */
export const RouterRequestLimits = {
  /** The most task ids one ListTaskUsageTotals takes (the gateway's largest task page). */
  maxTaskUsageIds: 500,
} as const;

/** The ids of a ListTaskUsageTotals, checked: 1..max distinct, none blank; the field is `task_ids`. */
function requireTaskIds(ids: readonly string[]): string[] {
  if (ids.length === 0) throw invalidField('task_ids', 'must name at least one task');
  if (ids.length > RouterRequestLimits.maxTaskUsageIds) {
    throw invalidField('task_ids', `must name at most ${RouterRequestLimits.maxTaskUsageIds} tasks, got ${ids.length}`);
  }
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (id.trim() === '') throw invalidField('task_ids', `item ${i} is empty; every id must be a task id`);
    if (seen.has(id)) throw invalidField('task_ids', `item ${i} repeats "${id}"; name each task once`);
    seen.add(id);
  });
  return [...seen];
}

function toProtoDecision(decision: RouteDecision): ProtoRouteDecision {
  return { ...decision, fallbacks: [...decision.fallbacks] };
}

function toProtoTotals(totals: UsageTotals): ProtoUsageTotals {
  return { ...totals };
}

function toCompleteResponse(settled: SettledCompletion): CompleteResponse {
  const { result, decision } = settled;
  return {
    message: toProtoMessage(result.message),
    decision: toProtoDecision({ ...decision, scripted: result.scripted }),
    usage: {
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      cachedInputTokens: result.usage.cachedInputTokens ?? 0,
      reasoningTokens: result.usage.reasoningTokens ?? 0,
      costUsd: settled.costUsd,
      priced: settled.priced,
    },
    finishReason: result.finishReason,
    servedBy: settled.servedBy === decision.spec ? '' : settled.servedBy,
  };
}

/** Names the task a completion works for on the call's span (the task's one trace is found by it). */
function markTaskWork(taskId: string): void {
  if (taskId !== '') setActiveSpanAttributes({ [TraceAttributes.taskId]: taskId });
}

/**
 * Creates the RouterService implementation, ready for `server.add(RouterServiceService, …)`.
 * Every log line about a completion carries `scripted`, so scripted replies are never read as
 * a real model's.
 */
export function createRouterHandlers(deps: RouterHandlerDeps): RouterServiceServer {
  return {
    route: unary<RouteRequest, ProtoRouteDecision>(async (request, ctx) => {
      const decision = await deps.completions.route(request);
      ctx.logger.debug('route decided', { ...decision });
      return toProtoDecision(decision);
    }),

    complete: unary<CompleteRequest, CompleteResponse>(async (request, ctx) => {
      markTaskWork(request.taskId);
      return toCompleteResponse(await deps.completions.complete(request, ctx.logger, ctx.signal));
    }),

    streamComplete: serverStream<CompleteRequest, CompleteChunk>(async (request, ctx, send) => {
      markTaskWork(request.taskId);
      const settled = await deps.completions.stream(request, ctx.logger, ctx.signal, (content) => send({ contentDelta: content }));
      send({ final: toCompleteResponse(settled) });
    }),

    classifyIntent: unary<ClassifyIntentRequest, IntentClassification>((request, ctx) => deps.intents.classify(request.text, ctx.logger, ctx.signal)),

    getTaskUsage: unary<GetTaskUsageRequest, TaskUsage>(async (request) => {
      if (request.taskId.trim() === '') throw invalidField('task_id', 'must not be empty');
      const usage = await deps.ledger.taskUsage(request.taskId);
      return {
        taskId: usage.taskId,
        total: toProtoTotals(usage.total),
        byPhase: usage.byPhase.map((p) => ({ phase: p.phase, totals: toProtoTotals(p.totals) })),
        byModel: usage.byModel.map((m) => ({ spec: m.spec, totals: toProtoTotals(m.totals) })),
      };
    }),

    listTaskUsageTotals: unary<ListTaskUsageTotalsRequest, ListTaskUsageTotalsResponse>(async (request) => {
      const totals = await deps.ledger.taskTotals(requireTaskIds(request.taskIds));
      return { usages: totals.map((t) => ({ taskId: t.taskId, total: toProtoTotals(t.total) })) };
    }),

    getModelStats: unary<GetModelStatsRequest, ModelStats>(async (request) => {
      if (request.phase !== '' && !(Phases as readonly string[]).includes(request.phase)) {
        throw invalidField('phase', `unknown phase "${request.phase}"; expected one of ${Phases.join(', ')} or empty for all`);
      }
      const stats = await deps.ledger.modelStats(request.phase === '' ? undefined : request.phase);
      return {
        stats: stats.map((s) => ({
          spec: s.spec,
          phase: s.phase,
          totals: toProtoTotals(s.totals),
          failedCalls: s.failedCalls,
          verdicts: s.verdicts,
          successes: s.successes,
          successRate: s.verdicts === 0 ? 0 : s.successes / s.verdicts,
          latencyP50Ms: s.latencyP50Ms,
          latencyP99Ms: s.latencyP99Ms,
        })),
      };
    }),
  };
}
