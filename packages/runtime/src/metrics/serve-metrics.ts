/**
 * The one call a service's wiring makes for metrics: label the process registry with the
 * service, add Node's process metrics, and serve `/metrics` on the configured port until
 * shutdown. Port 0 means metrics are off (nothing listens), so a developer running several
 * copies of one service on a host can silence all but one.
 *
 * @example
 * await serveMetrics({ service: 'router', host: config.metricsHost, port: config.metricsPort, logger, lifecycle });
 */
import type { Lifecycle } from '../lifecycle.js';
import type { Logger } from '../logger.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { enableProcessMetrics, processRegistry } from './registry.js';

/** Options for {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /** The `service` label on every series. */
  service: string;
  /** `MAESTRO_METRICS_HOST`. */
  host: string;
  /** `MAESTRO_METRICS_PORT`; 0 turns the endpoint off. */
  port: number;
  logger: Logger;
  /** Closes the endpoint on shutdown when given. */
  lifecycle?: Pick<Lifecycle, 'onShutdown'>;
}

/** Serves the process registry for `service`; undefined when the port is 0 (off). */
export async function serveMetrics(options: ServeMetricsOptions): Promise<MetricsServer | undefined> {
  const registry = processRegistry();
  enableProcessMetrics(registry, options.service);
  if (options.port === 0) {
    options.logger.info('metrics endpoint off (MAESTRO_METRICS_PORT=0)');
    return undefined;
  }
  const server = await startMetricsServer({ host: options.host, port: options.port, logger: options.logger, registry });
  options.lifecycle?.onShutdown('metrics', () => server.close());
  return server;
}
