/**
 * Prometheus metrics for every service: the process registry, metric definitions, the
 * `/metrics` endpoint, gRPC server durations, JetStream consumer lag, and a parser of the
 * exposition format for tests.
 */
export {
  processRegistry,
  defineCounter,
  defineGauge,
  defineHistogram,
  enableProcessMetrics,
  DurationBuckets,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type MetricDefinition,
  type HistogramDefinition,
} from './registry.js';
export { startMetricsServer, METRICS_PATH, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { serveMetrics, type ServeMetricsOptions } from './serve-metrics.js';
export { grpcServerHistogram, splitGrpcPath, grpcCodeName, type GrpcServerLabel } from './grpc-metrics.js';
export {
  trackConsumerBacklog,
  type ConsumerBacklog,
  type ConsumerBacklogSource,
  type ConsumerBacklogOptions,
} from './consumer-backlog.js';
export { parsePrometheusText, sampleValue, type MetricSample, type ParsedMetrics } from './parse-prometheus-text.js';
