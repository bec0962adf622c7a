/**
 * The router's Prometheus metrics and the usage-ledger decorator that records them: every
 * model call the router makes is recorded in the ledger, success or failure, so observing
 * `record` sees them all, and neither the completion service nor the providers know about
 * metrics. Labels: `model` is the spec that answered (`gemini:gemini-2.5-pro`, `scripted`),
 * `phase` the call's intent (plan, code, review, escalate).
 *
 * - `maestro_llm_tokens_total{model, phase, kind}`: tokens by kind (input, cached_input,
 *   output, reasoning).
 * - `maestro_llm_cost_usd_total{model, phase}`: USD of priced calls.
 * - `maestro_llm_calls_total{model, phase, outcome}` and
 *   `maestro_llm_call_duration_seconds{model, phase, outcome}`: provider calls (fallbacks
 *   included) by outcome (ok, error).
 */
import { defineCounter, defineHistogram, processRegistry, type Counter, type Histogram, type Registry } from '@maestro/runtime';
import type { ModelCallRecord, UsageLedger } from './store/usage-ledger.js';

/** The router's metrics. */
export interface RouterMetrics {
  readonly tokens: Counter<'model' | 'phase' | 'kind'>;
  readonly costUsd: Counter<'model' | 'phase'>;
  readonly calls: Counter<'model' | 'phase' | 'outcome'>;
  readonly callDurations: Histogram<'model' | 'phase' | 'outcome'>;
}

/** Defines the router's metrics on `registry`. */
export function createRouterMetrics(registry: Registry = processRegistry()): RouterMetrics {
  return {
    tokens: defineCounter(registry, {
      name: 'maestro_llm_tokens_total',
      help: 'Model tokens by model, phase and kind (input, cached_input, output, reasoning).',
      labelNames: ['model', 'phase', 'kind'],
    }),
    costUsd: defineCounter(registry, {
      name: 'maestro_llm_cost_usd_total',
      help: 'USD spent on priced model calls, by model and phase.',
      labelNames: ['model', 'phase'],
    }),
    calls: defineCounter(registry, {
      name: 'maestro_llm_calls_total',
      help: 'Model calls by model, phase and outcome (ok, error).',
      labelNames: ['model', 'phase', 'outcome'],
    }),
    callDurations: defineHistogram(registry, {
      name: 'maestro_llm_call_duration_seconds',
      help: 'Time a model call took, fallbacks included, by model, phase and outcome (ok, error).',
      labelNames: ['model', 'phase', 'outcome'],
    }),
  };
}

/** Records one call's figures in `metrics`. */
export function recordModelCall(metrics: RouterMetrics, call: ModelCallRecord): void {
  const model = call.spec;
  const phase = call.phase;
  const outcome = call.ok ? 'ok' : 'error';
  metrics.calls.inc({ model, phase, outcome });
  metrics.callDurations.observe({ model, phase, outcome }, call.latencyMs / 1000);
  if (!call.ok) return;
  metrics.tokens.inc({ model, phase, kind: 'input' }, call.inputTokens);
  metrics.tokens.inc({ model, phase, kind: 'cached_input' }, call.cachedInputTokens);
  metrics.tokens.inc({ model, phase, kind: 'output' }, call.outputTokens);
  metrics.tokens.inc({ model, phase, kind: 'reasoning' }, call.reasoningTokens);
  if (call.costUsd !== null) metrics.costUsd.inc({ model, phase }, call.costUsd);
}

/**
 * Wraps `ledger` so every recorded call also moves the metrics, first: a ledger that cannot
 * write (database down) still leaves the call counted.
 */
export function instrumentUsageLedger(ledger: UsageLedger, metrics: RouterMetrics): UsageLedger {
  return {
    record: (call) => {
      recordModelCall(metrics, call);
      return ledger.record(call);
    },
    taskSpend: (taskId) => ledger.taskSpend(taskId),
    taskUsage: (taskId) => ledger.taskUsage(taskId),
    taskTotals: (taskIds) => ledger.taskTotals(taskIds),
    recordVerdict: (verdict) => ledger.recordVerdict(verdict),
    modelStats: (phase) => ledger.modelStats(phase),
  };
}
