import { defineCounter, defineGauge, defineHistogram, enableProcessMetrics, Registry } from './registry.js';
import { parsePrometheusText, sampleValue } from './parse-prometheus-text.js';

describe('metric definitions', () => {
  it('return the existing metric when defined twice, so two servers in one process share it', async () => {
    const registry = new Registry();
    const first = defineCounter(registry, { name: 'maestro_things_total', help: 'Things.', labelNames: ['kind'] });
    const second = defineCounter(registry, { name: 'maestro_things_total', help: 'Things.', labelNames: ['kind'] });
    first.inc({ kind: 'a' });
    second.inc({ kind: 'a' }, 2);
    expect(second).toBe(first);
    expect(sampleValue(parsePrometheusText(await registry.metrics()), 'maestro_things_total', { kind: 'a' })).toBe(3);
  });

  it('refuse a name already taken by another type of metric', () => {
    const registry = new Registry();
    defineGauge(registry, { name: 'maestro_clash', help: 'A gauge.' });
    expect(() => defineCounter(registry, { name: 'maestro_clash', help: 'A counter.' })).toThrow('maestro_clash is already defined as another type');
  });

  it('give histograms the shared duration buckets unless told otherwise', async () => {
    const registry = new Registry();
    defineHistogram(registry, { name: 'maestro_wait_seconds', help: 'Waits.' }).observe(0.3);
    defineHistogram(registry, { name: 'maestro_size_bytes', help: 'Sizes.', buckets: [10, 100] }).observe(50);
    const parsed = parsePrometheusText(await registry.metrics());
    const bounds = (name: string) => parsed.samples.filter((s) => s.name === name).map((s) => s.labels.le);
    expect(bounds('maestro_wait_seconds_bucket')).toContain('600');
    expect(bounds('maestro_size_bytes_bucket')).toEqual(['10', '100', '+Inf']);
    expect(sampleValue(parsed, 'maestro_wait_seconds_bucket', { le: '0.5' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_wait_seconds_bucket', { le: '0.25' })).toBe(0);
  });
});

describe('enableProcessMetrics', () => {
  it('adds Node process metrics once and labels every series with the service', async () => {
    const registry = new Registry();
    enableProcessMetrics(registry, 'router');
    enableProcessMetrics(registry, 'router');
    defineCounter(registry, { name: 'maestro_calls_total', help: 'Calls.' }).inc();
    const parsed = parsePrometheusText(await registry.metrics());
    expect(parsed.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(parsed.samples.find((s) => s.name === 'maestro_calls_total')?.labels).toEqual({ service: 'router' });
    expect(parsed.samples.filter((s) => s.name === 'process_cpu_user_seconds_total')).toHaveLength(1);
  });
});
