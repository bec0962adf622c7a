/**
 * A small parser of the Prometheus text exposition format (version 0.0.4), enough to read
 * back what prom-client writes: samples with labels, `# TYPE` lines, escaped label values.
 * For tests and tools that scrape `/metrics` and check what moved.
 *
 * @example
 * const samples = parsePrometheusText(await (await fetch(url)).text());
 * sampleValue(samples, 'maestro_locks_granted_total', { mode: 'exclusive' }); // 3
 */

/** One line of the exposition: a series and its value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a scrape, in order, and the declared type of each metric family. */
export interface ParsedMetrics {
  samples: MetricSample[];
  /** Family name → `counter`, `gauge`, `histogram`, `summary` or `untyped`. */
  types: Map<string, string>;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  // prom-client writes NaN as `Nan`.
  if (text.toLowerCase() === 'nan') return Number.NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`not a sample value: "${text}"`);
  return value;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const match = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(text.slice(i));
    if (!match) throw new Error(`bad labels in line: ${line}`);
    i += match[0].length;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`unterminated label value in line: ${line}`);
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i++];
        value += next === 'n' ? '\n' : (next ?? '');
      } else {
        value += c;
      }
    }
    labels[match[1]!] = value;
    const rest = /^\s*,?\s*/.exec(text.slice(i));
    i += rest ? rest[0].length : 0;
  }
  return labels;
}

/** Parses a scrape; throws on a line that is not valid exposition text. */
export function parsePrometheusText(text: string): ParsedMetrics {
  const samples: MetricSample[] = [];
  const types = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    samples.push({ name: match[1]!, labels: match[2] ? parseLabels(match[2], line) : {}, value: parseValue(match[3]!) });
  }
  return { samples, types };
}

/**
 * The sum of the samples named `name` whose labels include `labels` (0 when none match): the
 * count of a histogram across codes, a counter across label values, or one exact series.
 */
export function sampleValue(metrics: ParsedMetrics, name: string, labels: Record<string, string> = {}): number {
  return metrics.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
