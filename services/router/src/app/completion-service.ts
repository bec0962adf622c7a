/**
 * One completion, start to end: validate, route by the policy, check the task's budget against
 * its recorded spend, call the decision's resilient chain (streamed or not, cancellable), then
 * price the usage, record the call in the ledger and publish the usage event. Failed calls are
 * recorded too (for the models' measured figures), without tokens.
 */
import type { CompleteRequest } from '@maestro/contracts';
import { toMaestroError, type Clock, type Logger } from '@maestro/runtime';
import { priceUsage, type CompletionRequest, type CompletionResult, type CompletionStreamEvent, type PriceTable } from '@maestro/llm';
import { assertWithinBudget, hasLimit } from '../domain/budget.js';
import { planCompletion, type CompletionPlan } from '../domain/complete-request.js';
import { toLlmCompletedEvent } from '../domain/llm-completed-event.js';
import { decideRoute, type RouteDecision, type RouteQuery } from '../domain/routing.js';
import type { RoutingPolicy } from '../domain/routing-policy.js';
import type { ModelRegistry } from '../model-registry.js';
import type { UsageLedger } from '../store/usage-ledger.js';
import type { LlmEventPublisher } from '../transport/nats/llm-events.publisher.js';
import type { SuccessRateCache } from './success-rate-cache.js';

/** What the service needs. */
export interface CompletionServiceDeps {
  registry: ModelRegistry;
  policy: RoutingPolicy;
  prices: PriceTable;
  ledger: UsageLedger;
  rates: SuccessRateCache;
  events: LlmEventPublisher;
  clock: Pick<Clock, 'now'>;
}

/** A finished completion, priced. */
export interface SettledCompletion {
  result: CompletionResult;
  decision: RouteDecision;
  costUsd: number;
  priced: boolean;
  /** The spec that answered (a fallback's, when one served). */
  servedBy: string;
}

/** See the module comment. */
export class CompletionService {
  private readonly usesRates: boolean;

  constructor(private readonly deps: CompletionServiceDeps) {
    this.usesRates = deps.policy.rules.some((rule) => typeof rule.use !== 'string');
  }

  /** Routes a query without calling anything. */
  async route(query: RouteQuery): Promise<RouteDecision> {
    const rates = this.usesRates ? await this.deps.rates.snapshot() : undefined;
    return decideRoute(query, { policy: this.deps.policy, tiers: this.deps.registry.tiers, prices: this.deps.prices, ...(rates ? { rates } : {}) });
  }

  /** Answers one request with one message. */
  async complete(request: CompleteRequest, baseLogger: Logger, signal: AbortSignal): Promise<SettledCompletion> {
    const call = await this.begin(request, baseLogger, signal);
    try {
      const result = await call.chain.complete(call.providerRequest);
      return await this.settle(call, result);
    } catch (err) {
      await this.recordFailure(call, err);
      throw err;
    }
  }

  /** Streams the answer: content deltas through `onDelta`, then the settled completion. */
  async stream(request: CompleteRequest, baseLogger: Logger, signal: AbortSignal, onDelta: (content: string) => void): Promise<SettledCompletion> {
    const call = await this.begin(request, baseLogger, signal);
    try {
      let result: CompletionResult | undefined;
      const events: AsyncIterable<CompletionStreamEvent> = call.chain.stream?.(call.providerRequest) ?? this.asStream(call);
      for await (const event of events) {
        if (event.type === 'delta') onDelta(event.content);
        else result = event.result;
      }
      if (result === undefined) throw toMaestroError(new Error(`the ${call.decision.spec} stream ended without a final result`));
      return await this.settle(call, result);
    } catch (err) {
      await this.recordFailure(call, err);
      throw err;
    }
  }

  private async *asStream(call: Call): AsyncIterable<CompletionStreamEvent> {
    const result = await call.chain.complete(call.providerRequest);
    if (result.message.content !== '') yield { type: 'delta', content: result.message.content };
    yield { type: 'final', result };
  }

  private async begin(request: CompleteRequest, baseLogger: Logger, signal: AbortSignal): Promise<Call> {
    const plan = planCompletion(request);
    const decision = await this.route(plan.query);
    const logger = baseLogger.child({
      role: decision.role,
      intent: plan.phase,
      provider: decision.provider,
      model: decision.model,
      scripted: decision.scripted,
      ...(plan.taskId !== undefined ? { taskId: plan.taskId } : {}),
      ...(plan.runId !== undefined ? { runId: plan.runId } : {}),
      ...(plan.subtaskId !== undefined ? { subtaskId: plan.subtaskId } : {}),
    });
    if (plan.taskId !== undefined && hasLimit(plan.budget)) {
      const spent = await this.deps.ledger.taskSpend(plan.taskId);
      try {
        assertWithinBudget(plan.taskId, plan.budget, spent);
      } catch (err) {
        logger.info('call refused: task budget spent', { spentTokens: spent.tokens, spentUsd: spent.usd });
        throw err;
      }
    }
    const providerRequest: CompletionRequest = {
      model: decision.model,
      intent: plan.phase,
      messages: plan.messages,
      tools: plan.tools,
      signal,
      ...(plan.maxOutputTokens !== undefined ? { maxOutputTokens: plan.maxOutputTokens } : {}),
    };
    return { plan, decision, logger, providerRequest, chain: this.deps.registry.chainFor(decision), startedAt: this.deps.clock.now() };
  }

  private async settle(call: Call, result: CompletionResult): Promise<SettledCompletion> {
    const { plan, decision, logger } = call;
    const durationMs = this.deps.clock.now() - call.startedAt;
    const servedBy = result.servedBy ?? decision.spec;
    // A scripted reply (also one served over a real wire by a fake server) cost nothing.
    const { costUsd, priced } = priceUsage(result.scripted ? 'scripted' : servedBy, result.usage, this.deps.prices);
    if (!priced) logger.warn('no price known for model; its cost is reported as unpriced', { spec: servedBy });
    logger.info('completion done', {
      scripted: result.scripted,
      servedBy,
      inputTokens: result.usage.inputTokens,
      cachedInputTokens: result.usage.cachedInputTokens ?? 0,
      outputTokens: result.usage.outputTokens,
      reasoningTokens: result.usage.reasoningTokens ?? 0,
      costUsd,
      priced,
      durationMs,
      finishReason: result.finishReason,
      toolCalls: result.message.toolCalls?.length ?? 0,
    });
    const at = new Date(this.deps.clock.now());
    try {
      await this.deps.ledger.record({
        at,
        ...ids(plan),
        attempt: plan.attempt,
        phase: plan.phase,
        role: decision.role,
        spec: servedBy,
        scripted: result.scripted,
        inputTokens: result.usage.inputTokens,
        cachedInputTokens: result.usage.cachedInputTokens ?? 0,
        outputTokens: result.usage.outputTokens,
        reasoningTokens: result.usage.reasoningTokens ?? 0,
        costUsd: priced ? costUsd : null,
        latencyMs: durationMs,
        ok: true,
      });
    } catch (err) {
      // The model answered and was paid for: the caller gets the answer. The spend is missing
      // from the ledger, which the log says loudly.
      logger.error('completion could not be recorded in the usage ledger; task totals miss it', { err, inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens });
    }
    await this.deps.events.completed(
      toLlmCompletedEvent(plan, decision, {
        usage: result.usage,
        costUsd,
        priced,
        ...(servedBy !== decision.spec ? { servedBy } : {}),
        durationMs,
        scripted: result.scripted,
        at,
      }),
    );
    return { result, decision, costUsd, priced, servedBy };
  }

  private async recordFailure(call: Call, err: unknown): Promise<void> {
    const error = toMaestroError(err);
    call.logger.warn('completion failed', { code: error.code, message: error.message });
    try {
      await this.deps.ledger.record({
        at: new Date(this.deps.clock.now()),
        ...ids(call.plan),
        attempt: call.plan.attempt,
        phase: call.plan.phase,
        role: call.decision.role,
        spec: call.decision.spec,
        scripted: call.decision.scripted,
        inputTokens: 0,
        cachedInputTokens: 0,
        outputTokens: 0,
        reasoningTokens: 0,
        costUsd: 0,
        latencyMs: this.deps.clock.now() - call.startedAt,
        ok: false,
        errorCode: error.code,
      });
    } catch (recordErr) {
      call.logger.warn('failed completion could not be recorded in the usage ledger', { err: recordErr });
    }
  }
}

interface Call {
  plan: CompletionPlan;
  decision: RouteDecision;
  logger: Logger;
  providerRequest: CompletionRequest;
  chain: ReturnType<ModelRegistry['chainFor']>;
  startedAt: number;
}

function ids(plan: CompletionPlan): { taskId?: string; runId?: string; subtaskId?: string } {
  return {
    ...(plan.taskId !== undefined ? { taskId: plan.taskId } : {}),
    ...(plan.runId !== undefined ? { runId: plan.runId } : {}),
    ...(plan.subtaskId !== undefined ? { subtaskId: plan.subtaskId } : {}),
  };
}
