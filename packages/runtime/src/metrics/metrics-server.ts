/**
 * The HTTP endpoint Prometheus scrapes: `GET /metrics` on the service's metrics port, in the
 * text exposition format, and nothing else (every other path is 404, every other method 405).
 * Kept apart from a service's own ports so it is never exposed to users by accident.
 *
 * @example
 * const server = await startMetricsServer({ host: '127.0.0.1', port: 0, logger });
 * await fetch(`http://127.0.0.1:${server.port}/metrics`);
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { processRegistry } from './registry.js';

/** The path Prometheus scrapes (and the k8s `prometheus.io/path` annotation names). */
export const METRICS_PATH = '/metrics';

/** Options for {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Address to bind; `0.0.0.0` in a container so Prometheus can reach it. */
  host: string;
  /** Port to bind; 0 picks a free one (see `port` of the result). */
  port: number;
  logger: Logger;
  /** @default processRegistry() */
  registry?: Registry;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The bound port. */
  readonly port: number;
  /** Stops listening and closes idle keep-alive connections. */
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/** Starts serving `registry` on `host:port`. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const registry = options.registry ?? processRegistry();
  const logger = options.logger.child({ component: 'metrics' });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH) return answer(res, 404, `not found: metrics are served on ${METRICS_PATH}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'method not allowed: use GET\n', { allow: 'GET, HEAD' });
    try {
      const text = await registry.metrics();
      answer(res, 200, req.method === 'HEAD' ? '' : text, { 'content-type': registry.contentType });
    } catch (err) {
      logger.error('metrics collection failed', { err });
      answer(res, 500, 'could not collect metrics; see the service log\n');
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info('metrics server listening', { host: options.host, port, path: METRICS_PATH });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
