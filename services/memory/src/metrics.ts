/**
 * The memory service's Prometheus metrics: how long recalls take, by outcome (`ok`,
 * `degraded`: answered with a warning, e.g. keyword-only because the embedder was slow,
 * `error`) and vector search path. Recorded by wrapping `MemoryService.recall`, so neither the
 * service nor the handlers know about metrics.
 */
import { defineHistogram, processRegistry, type Clock, type Histogram, type Registry } from '@maestro/runtime';
import type { MemoryService } from './app/memory-service.js';

/** The memory service's metrics. */
export interface MemoryMetrics {
  readonly recallDurations: Histogram<'outcome' | 'vector_search'>;
}

/** Defines the memory service's metrics on `registry`. */
export function createMemoryMetrics(registry: Registry = processRegistry()): MemoryMetrics {
  return {
    recallDurations: defineHistogram(registry, {
      name: 'maestro_memory_recall_duration_seconds',
      help: 'Time a Recall took, by outcome (ok, degraded, error) and vector search path.',
      labelNames: ['outcome', 'vector_search'],
    }),
  };
}

/** `memory` with its `recall` timed into `metrics`; every other method is the original's. */
export function instrumentRecall(memory: MemoryService, metrics: MemoryMetrics, clock: Pick<Clock, 'now'>): MemoryService {
  const instrumented = Object.create(memory) as MemoryService;
  instrumented.recall = async (spec, logger) => {
    const started = clock.now();
    const seconds = (): number => (clock.now() - started) / 1000;
    try {
      const result = await memory.recall(spec, logger);
      metrics.recallDurations.observe({ outcome: result.warning === '' ? 'ok' : 'degraded', vector_search: result.vectorSearch }, seconds());
      return result;
    } catch (err) {
      metrics.recallDurations.observe({ outcome: 'error', vector_search: 'none' }, seconds());
      throw err;
    }
  };
  return instrumented;
}
