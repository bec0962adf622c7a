import { createSilentLogger, ManualClock, parsePrometheusText, Registry, sampleValue } from '@maestro/runtime';
import type { MemoryService } from './app/memory-service.js';
import type { RecallResult } from './app/recall-memories.js';
import { createMemoryMetrics, instrumentRecall } from './metrics.js';

/** A MemoryService whose recall takes `ms` of the clock and answers (or fails) as told. */
function recallingService(clock: ManualClock, answers: Array<Partial<RecallResult> | Error>): MemoryService {
  return {
    async recall() {
      const answer = answers.shift();
      clock.advance(200);
      if (answer instanceof Error) throw answer;
      return { hits: [], warning: '', vectorSearch: 'pgvector', ...answer } as RecallResult;
    },
    list: async () => ['kept'],
  } as unknown as MemoryService;
}

describe('instrumentRecall', () => {
  it('times each recall by outcome and vector path, and leaves the other methods alone', async () => {
    const clock = new ManualClock(0);
    const registry = new Registry();
    const memory = instrumentRecall(
      recallingService(clock, [{}, { warning: 'embedder slow; keyword results only', vectorSearch: 'exact-scan' }, new Error('db down')]),
      createMemoryMetrics(registry),
      clock,
    );
    const logger = createSilentLogger();
    const spec = {} as Parameters<MemoryService['recall']>[0];
    await memory.recall(spec, logger);
    await memory.recall(spec, logger);
    await expect(memory.recall(spec, logger)).rejects.toThrow('db down');
    expect(await memory.list({} as Parameters<MemoryService['list']>[0])).toEqual(['kept']);

    const parsed = parsePrometheusText(await registry.metrics());
    expect(sampleValue(parsed, 'maestro_memory_recall_duration_seconds_count', { outcome: 'ok', vector_search: 'pgvector' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_memory_recall_duration_seconds_count', { outcome: 'degraded', vector_search: 'exact-scan' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_memory_recall_duration_seconds_count', { outcome: 'error' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_memory_recall_duration_seconds_sum')).toBeCloseTo(0.6);
  });
});
