/**
 * The executor's Prometheus metrics, recorded by decorating two ports so the worker and the
 * agent loop know nothing about them:
 *
 * - the router client (`RouterCompleteClient`): each agent model turn's duration by phase and
 *   outcome (`maestro_agent_model_step_duration_seconds`), and its tokens by model, phase and
 *   kind (`maestro_agent_tokens_total`);
 * - the work publisher (`WorkPublisher`): agent steps by kind and success
 *   (`maestro_agent_steps_total`) and finished subtasks by outcome
 *   (`maestro_subtasks_finished_total`);
 * - the step outbox's drop listener (`countStepDrops`): steps dropped unpublished, by reason
 *   (`maestro_agent_steps_dropped_total`).
 *
 * The work queue's depth and lag come from the bus (every consumer reports them).
 */
import { defineCounter, defineHistogram, processRegistry, systemClock, toMaestroError } from '@maestro/runtime';
import type { Clock, Counter, Histogram, Registry } from '@maestro/runtime';
import type { WorkPublisher } from './domain/ports.js';
import type { StepDropReason } from './work/step-outbox.js';
import type { RouterCompleteClient } from './store/router-chat-model.js';

/** The executor's metrics. */
export interface ExecutorMetrics {
  readonly modelSteps: Histogram<'phase' | 'outcome'>;
  readonly tokens: Counter<'model' | 'phase' | 'kind'>;
  readonly steps: Counter<'kind' | 'ok'>;
  readonly finished: Counter<'outcome'>;
  readonly stepsDropped: Counter<'reason'>;
}

/** Defines the executor's metrics on `registry`. */
export function createExecutorMetrics(registry: Registry = processRegistry()): ExecutorMetrics {
  return {
    modelSteps: defineHistogram(registry, {
      name: 'maestro_agent_model_step_duration_seconds',
      help: 'Time an agent model turn took (the router call, fallbacks included), by phase and outcome (ok, or the error code).',
      labelNames: ['phase', 'outcome'],
    }),
    tokens: defineCounter(registry, {
      name: 'maestro_agent_tokens_total',
      help: 'Tokens of agent model turns, by model, phase and kind (input, cached_input, output, reasoning).',
      labelNames: ['model', 'phase', 'kind'],
    }),
    steps: defineCounter(registry, {
      name: 'maestro_agent_steps_total',
      help: 'Agent and worker steps reported, by kind (model, tool, recall, condensation, verdict, …) and whether they succeeded.',
      labelNames: ['kind', 'ok'],
    }),
    finished: defineCounter(registry, {
      name: 'maestro_subtasks_finished_total',
      help: 'Subtask attempts this executor finished, by outcome (succeeded, failed).',
      labelNames: ['outcome'],
    }),
    stepsDropped: defineCounter(registry, {
      name: 'maestro_agent_steps_dropped_total',
      help: 'Agent steps the step outbox dropped unpublished, by reason (full, permanent: a publish error no retry fixes, attempts: still failing after the attempt limit).',
      labelNames: ['reason'],
    }),
  };
}

/** Wraps the router client so each model turn's duration and tokens are recorded. */
export function instrumentRouterClient(client: RouterCompleteClient, metrics: ExecutorMetrics, clock: Pick<Clock, 'now'> = systemClock): RouterCompleteClient {
  return {
    async complete(request, options) {
      const phase = request.intent || 'unknown';
      const started = clock.now();
      const seconds = (): number => (clock.now() - started) / 1000;
      try {
        const response = await client.complete(request, options);
        metrics.modelSteps.observe({ phase, outcome: 'ok' }, seconds());
        const model = response.servedBy || response.decision?.spec || 'unknown';
        const usage = response.usage;
        if (usage) {
          metrics.tokens.inc({ model, phase, kind: 'input' }, usage.inputTokens);
          metrics.tokens.inc({ model, phase, kind: 'cached_input' }, usage.cachedInputTokens);
          metrics.tokens.inc({ model, phase, kind: 'output' }, usage.outputTokens);
          metrics.tokens.inc({ model, phase, kind: 'reasoning' }, usage.reasoningTokens);
        }
        return response;
      } catch (err) {
        metrics.modelSteps.observe({ phase, outcome: toMaestroError(err).code }, seconds());
        throw err;
      }
    },
  };
}

/** Wraps the work publisher so steps and finished subtasks are counted as they are published. */
export function instrumentWorkPublisher(publisher: WorkPublisher, metrics: ExecutorMetrics): WorkPublisher {
  return {
    publishResult: (result) => publisher.publishResult(result),
    publishEscalation: (escalation) => publisher.publishEscalation(escalation),
    publishStep: async (event) => {
      await publisher.publishStep(event);
      metrics.steps.inc({ kind: event.kind, ok: String(event.ok) });
    },
    publishFinished: (event) => {
      metrics.finished.inc({ outcome: event.ok ? 'succeeded' : 'failed' });
      return publisher.publishFinished(event);
    },
  };
}

/** The step outbox's drop listener that counts each dropped step by reason. */
export function countStepDrops(metrics: ExecutorMetrics): (reason: StepDropReason) => void {
  return (reason) => metrics.stepsDropped.inc({ reason });
}
