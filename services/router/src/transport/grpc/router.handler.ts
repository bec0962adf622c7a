/**
 * The `maestro.v1.RouterService` handlers: Route (the decision only), Complete and
 * StreamComplete. Each completion is validated (the bad field named), routed, answered by the
 * role's provider, logged with its usage and cost, and published as
 * `maestro.events.llm.completed`.
 */
import type {
  CompleteChunk,
  CompleteRequest,
  CompleteResponse,
  RouteDecision as ProtoRouteDecision,
  RouteRequest,
  RouterServiceServer,
} from '@maestro/contracts';
import { serverStream, systemClock, unary, type Clock, type Logger } from '@maestro/runtime';
import {
  costOf,
  defaultPriceTable,
  priceOf,
  toProtoMessage,
  type CompletionRequest,
  type CompletionResult,
  type PriceTable,
} from '@maestro/llm';
import { planCompletion, type CompletionPlan } from '../../domain/complete-request.js';
import { toLlmCompletedEvent } from '../../domain/llm-completed-event.js';
import { decideRoute, type RoleModels, type RouteDecision } from '../../domain/routing.js';
import type { RoleRoutes } from '../../providers.js';
import type { LlmEventPublisher } from '../nats/llm-events.publisher.js';

/** What the handlers need. */
export interface RouterHandlerDeps {
  routes: RoleRoutes;
  events: LlmEventPublisher;
  /** @default systemClock */
  clock?: Pick<Clock, 'now'>;
  /** @default defaultPriceTable */
  prices?: PriceTable;
}

function toProtoDecision(decision: RouteDecision): ProtoRouteDecision {
  return { ...decision };
}

/**
 * Creates the RouterService implementation, ready for `server.add(RouterServiceService, …)`.
 * Every log line about a completion carries `scripted`, so scripted replies are never read as
 * a real model's.
 */
export function createRouterHandlers(deps: RouterHandlerDeps): RouterServiceServer {
  const clock = deps.clock ?? systemClock;
  const prices = deps.prices ?? defaultPriceTable;
  const models: RoleModels = { strategic: deps.routes.strategic.spec, tactical: deps.routes.tactical.spec };

  const begin = (request: CompleteRequest, baseLogger: Logger) => {
    const plan = planCompletion(request, models);
    const route = deps.routes[plan.decision.role];
    const logger = baseLogger.child({
      role: plan.decision.role,
      intent: plan.intent,
      provider: plan.decision.provider,
      model: plan.decision.model,
      scripted: plan.decision.scripted,
      ...(plan.taskId !== undefined ? { taskId: plan.taskId } : {}),
      ...(plan.runId !== undefined ? { runId: plan.runId } : {}),
      ...(plan.subtaskId !== undefined ? { subtaskId: plan.subtaskId } : {}),
    });
    const providerRequest: CompletionRequest = {
      model: route.spec.model,
      intent: plan.intent,
      messages: plan.messages,
      tools: plan.tools,
      ...(plan.maxOutputTokens !== undefined ? { maxOutputTokens: plan.maxOutputTokens } : {}),
    };
    return { plan, route, logger, providerRequest, startedAt: clock.now() };
  };

  /** Accounts a finished completion (log + event) and builds the response. */
  const settle = async (
    plan: CompletionPlan,
    specName: string,
    logger: Logger,
    result: CompletionResult,
    startedAt: number,
  ): Promise<CompleteResponse> => {
    const durationMs = clock.now() - startedAt;
    const costUsd = costOf(specName, result.usage, prices);
    if (priceOf(specName, prices) === undefined) logger.warn('no price known for model; cost reported as 0', { spec: specName });
    logger.info('completion done', {
      scripted: result.scripted,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      costUsd,
      durationMs,
      finishReason: result.finishReason,
      toolCalls: result.message.toolCalls?.length ?? 0,
    });
    await deps.events.completed(
      toLlmCompletedEvent(plan, { usage: result.usage, costUsd, durationMs, scripted: result.scripted, at: new Date() }),
    );
    return {
      message: toProtoMessage(result.message),
      decision: toProtoDecision({ ...plan.decision, scripted: result.scripted }),
      usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens, costUsd },
      finishReason: result.finishReason,
    };
  };

  return {
    route: unary<RouteRequest, ProtoRouteDecision>(async (request, ctx) => {
      const decision = decideRoute(request, models);
      ctx.logger.debug('route decided', { ...decision });
      return toProtoDecision(decision);
    }),

    complete: unary<CompleteRequest, CompleteResponse>(async (request, ctx) => {
      const { plan, route, logger, providerRequest, startedAt } = begin(request, ctx.logger);
      let result: CompletionResult;
      try {
        result = await route.provider.complete(providerRequest);
      } catch (err) {
        logger.warn('completion failed', { err: err instanceof Error ? err.message : String(err) });
        throw err;
      }
      return settle(plan, route.spec.spec, logger, result, startedAt);
    }),

    streamComplete: serverStream<CompleteRequest, CompleteChunk>(async (request, ctx, send) => {
      const { plan, route, logger, providerRequest, startedAt } = begin(request, ctx.logger);
      let result: CompletionResult | undefined;
      try {
        if (route.provider.stream !== undefined) {
          for await (const event of route.provider.stream(providerRequest)) {
            if (event.type === 'delta') send({ contentDelta: event.content });
            else result = event.result;
          }
        } else {
          // A provider without streaming still streams: its whole content as one delta.
          result = await route.provider.complete(providerRequest);
          if (result.message.content !== '') send({ contentDelta: result.message.content });
        }
      } catch (err) {
        logger.warn('completion failed', { err: err instanceof Error ? err.message : String(err) });
        throw err;
      }
      if (result === undefined) {
        throw new Error(`provider ${route.provider.name} ended its stream without a final result`);
      }
      send({ final: await settle(plan, route.spec.spec, logger, result, startedAt) });
    }),
  };
}
