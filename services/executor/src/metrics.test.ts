import type { CompleteResponse, WorkFinishedEvent, WorkStepEvent } from '@maestro/contracts';
import { ManualClock, OperationalError, parsePrometheusText, Registry, sampleValue } from '@maestro/runtime';
import type { WorkPublisher } from './domain/ports.js';
import { countStepDrops, createExecutorMetrics, instrumentRouterClient, instrumentWorkPublisher } from './metrics.js';

describe('executor metrics', () => {
  it('time each model turn by phase and outcome and count its tokens by model', async () => {
    const clock = new ManualClock(0);
    const registry = new Registry();
    const replies: Array<Partial<CompleteResponse> | Error> = [
      { servedBy: 'scripted', usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 0, reasoningTokens: 0, costUsd: 0, priced: true } },
      new OperationalError('ROUTER_UNAVAILABLE', 'router down'),
    ];
    const client = instrumentRouterClient(
      {
        complete: async () => {
          clock.advance(1500);
          const reply = replies.shift()!;
          if (reply instanceof Error) throw reply;
          return reply as CompleteResponse;
        },
      },
      createExecutorMetrics(registry),
      clock,
    );
    await client.complete({ intent: 'code' } as never);
    await expect(client.complete({ intent: 'code' } as never)).rejects.toThrow('router down');
    const parsed = parsePrometheusText(await registry.metrics());
    expect(sampleValue(parsed, 'maestro_agent_model_step_duration_seconds_sum', { phase: 'code', outcome: 'ok' })).toBe(1.5);
    expect(sampleValue(parsed, 'maestro_agent_model_step_duration_seconds_count', { phase: 'code', outcome: 'ROUTER_UNAVAILABLE' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_agent_tokens_total', { model: 'scripted', phase: 'code', kind: 'input' })).toBe(100);
    expect(sampleValue(parsed, 'maestro_agent_tokens_total', { model: 'scripted', phase: 'code', kind: 'output' })).toBe(20);
  });

  it('count published steps by kind and finished subtasks by outcome; a step that failed to publish is not counted', async () => {
    const registry = new Registry();
    let failNext = false;
    const inner: WorkPublisher = {
      publishResult: async () => undefined,
      publishEscalation: async () => undefined,
      publishStep: async () => {
        if (failNext) throw new Error('stream down');
      },
      publishFinished: async () => undefined,
    };
    const publisher = instrumentWorkPublisher(inner, createExecutorMetrics(registry));
    await publisher.publishStep({ kind: 'model', ok: true } as WorkStepEvent);
    await publisher.publishStep({ kind: 'tool', ok: false } as WorkStepEvent);
    failNext = true;
    await expect(publisher.publishStep({ kind: 'tool', ok: false } as WorkStepEvent)).rejects.toThrow('stream down');
    await publisher.publishFinished({ ok: true } as WorkFinishedEvent);
    const parsed = parsePrometheusText(await registry.metrics());
    expect(sampleValue(parsed, 'maestro_agent_steps_total', { kind: 'model', ok: 'true' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_agent_steps_total', { kind: 'tool', ok: 'false' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_subtasks_finished_total', { outcome: 'succeeded' })).toBe(1);
  });

  it('count steps the outbox dropped, by reason', async () => {
    const registry = new Registry();
    const onDropped = countStepDrops(createExecutorMetrics(registry));
    onDropped('permanent');
    onDropped('attempts');
    onDropped('attempts');
    const parsed = parsePrometheusText(await registry.metrics());
    expect(sampleValue(parsed, 'maestro_agent_steps_dropped_total', { reason: 'permanent' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_agent_steps_dropped_total', { reason: 'attempts' })).toBe(2);
  });
});
