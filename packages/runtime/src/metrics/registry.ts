/**
 * The process's Prometheus registry and get-or-create definitions of its metrics. Each process
 * has one registry (`processRegistry()`), which the gRPC server, the bus and the service's own
 * `metrics.ts` all register on, so the one `/metrics` endpoint shows everything. Definitions
 * are idempotent: defining a metric that exists returns it, which lets two servers or buses in
 * one process (tests, the all-in-one CLI) share a metric instead of failing on a duplicate.
 *
 * @example
 * const granted = defineCounter(processRegistry(), { name: 'maestro_locks_granted_total', help: 'Leases granted.', labelNames: ['mode'] });
 * granted.inc({ mode: 'exclusive' });
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/**
 * Bucket bounds (seconds) for durations, from a 5 ms RPC to a ten-minute agent step: one set for
 * every duration histogram, so dashboards can compare them.
 */
export const DurationBuckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** What defines a metric: its name, help text and label names. */
export interface MetricDefinition<L extends string> {
  /** `maestro_<area>_<what>_<unit>`; counters end in `_total`. */
  name: string;
  help: string;
  labelNames?: readonly L[];
}

/** A histogram's definition; `buckets` @default DurationBuckets */
export interface HistogramDefinition<L extends string> extends MetricDefinition<L> {
  buckets?: readonly number[];
}

let registry: Registry | undefined;

/** The registry of this process, created on first use. */
export function processRegistry(): Registry {
  registry ??= new Registry();
  return registry;
}

function existing<M>(target: Registry, name: string, type: new (...args: never[]) => M): M | undefined {
  const found = target.getSingleMetric(name);
  if (found === undefined) return undefined;
  if (!(found instanceof type)) throw new Error(`metric ${name} is already defined as another type`);
  return found;
}

/** Defines (or returns the existing) counter `definition.name` on `target`. */
export function defineCounter<L extends string = never>(target: Registry, definition: MetricDefinition<L>): Counter<L> {
  return (
    (existing(target, definition.name, Counter) as Counter<L> | undefined) ??
    new Counter<L>({ name: definition.name, help: definition.help, labelNames: definition.labelNames ?? [], registers: [target] })
  );
}

/** Defines (or returns the existing) histogram `definition.name` on `target`. */
export function defineHistogram<L extends string = never>(target: Registry, definition: HistogramDefinition<L>): Histogram<L> {
  return (
    (existing(target, definition.name, Histogram) as Histogram<L> | undefined) ??
    new Histogram<L>({
      name: definition.name,
      help: definition.help,
      labelNames: definition.labelNames ?? [],
      buckets: [...(definition.buckets ?? DurationBuckets)],
      registers: [target],
    })
  );
}

/**
 * Defines (or returns the existing) gauge `definition.name` on `target`. With `collect`, the
 * gauge is computed at scrape time (prom-client awaits it).
 */
export function defineGauge<L extends string = never>(
  target: Registry,
  definition: MetricDefinition<L> & { collect?: (this: Gauge<L>) => void | Promise<void> },
): Gauge<L> {
  return (
    (existing(target, definition.name, Gauge) as Gauge<L> | undefined) ??
    new Gauge<L>({
      name: definition.name,
      help: definition.help,
      labelNames: definition.labelNames ?? [],
      registers: [target],
      ...(definition.collect ? { collect: definition.collect } : {}),
    })
  );
}

const withDefaults = new WeakSet<Registry>();

/**
 * Labels every series with `service` and adds Node's process metrics (CPU, memory, event-loop
 * lag, GC, handles) under their standard names. Once per registry; later calls only relabel.
 */
export function enableProcessMetrics(target: Registry, service: string): void {
  target.setDefaultLabels({ service });
  if (withDefaults.has(target)) return;
  withDefaults.add(target);
  collectDefaultMetrics({ register: target });
}
