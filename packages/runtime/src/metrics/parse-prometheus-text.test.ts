import { parsePrometheusText, sampleValue } from './parse-prometheus-text.js';

const text = [
  '# HELP maestro_calls_total Calls.',
  '# TYPE maestro_calls_total counter',
  'maestro_calls_total{route="/v1/tasks",code="200"} 3',
  'maestro_calls_total{route="/v1/tasks",code="404"} 1',
  'maestro_calls_total{route="a \\"quoted\\", comma\\\\slash\\nline",code="200"} 2 1700000000000',
  '# TYPE maestro_up gauge',
  'maestro_up 1',
  'maestro_wait_seconds_bucket{le="+Inf"} 4',
  'maestro_ratio NaN',
  '',
].join('\n');

describe('parsePrometheusText', () => {
  it('reads samples, labels (with escapes), timestamps and types', () => {
    const parsed = parsePrometheusText(text);
    expect(parsed.types.get('maestro_calls_total')).toBe('counter');
    expect(parsed.types.get('maestro_up')).toBe('gauge');
    expect(parsed.samples[2]).toEqual({ name: 'maestro_calls_total', labels: { route: 'a "quoted", comma\\slash\nline', code: '200' }, value: 2 });
    expect(parsed.samples.find((s) => s.name === 'maestro_wait_seconds_bucket')?.labels).toEqual({ le: '+Inf' });
    expect(Number.isNaN(parsed.samples.find((s) => s.name === 'maestro_ratio')?.value)).toBe(true);
  });

  it('sums the samples whose labels include the ones asked for', () => {
    const parsed = parsePrometheusText(text);
    expect(sampleValue(parsed, 'maestro_calls_total')).toBe(6);
    expect(sampleValue(parsed, 'maestro_calls_total', { code: '200' })).toBe(5);
    expect(sampleValue(parsed, 'maestro_calls_total', { route: '/v1/tasks', code: '404' })).toBe(1);
    expect(sampleValue(parsed, 'maestro_missing_total')).toBe(0);
  });

  it('refuses a line that is not exposition text, naming it', () => {
    expect(() => parsePrometheusText('maestro_calls_total{code=200} 1')).toThrow('bad labels in line: maestro_calls_total{code=200} 1');
    expect(() => parsePrometheusText('maestro_calls_total one')).toThrow('not a sample value: "one"');
  });
});
