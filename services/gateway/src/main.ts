/**
 * The gateway process: configuration → logger and telemetry → {@link startGateway} → metrics
 * endpoint; stopped gracefully on SIGTERM/SIGINT. No logic lives here.
 */
import { fileURLToPath } from 'node:url';
import { compileTransportSecurity, createLogger, initTelemetry, loadConfig, runService, serveMetrics } from '@maestro/runtime';
import { gatewayConfigSpec } from './config.js';
import { startGateway } from './gateway.js';

runService('gateway', async (lifecycle) => {
  const config = loadConfig(gatewayConfigSpec);
  const security = compileTransportSecurity(config);
  const logger = createLogger({ service: 'gateway', level: config.logLevel });
  lifecycle.setLogger(logger);
  const telemetry = initTelemetry({ serviceName: 'gateway', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());
  // dist/main.js → the workspace's packages/web/dist (MAESTRO_WEB_DIST overrides it).
  const defaultWebDist = fileURLToPath(new URL('../../../packages/web/dist', import.meta.url));
  const gateway = await startGateway(config, { logger, defaultWebDist, security, healthPort: config.grpcHealthPort });
  lifecycle.onShutdown('gateway', () => gateway.stop());
  await serveMetrics({ service: 'gateway', host: config.metricsHost, port: config.metricsPort, logger, lifecycle });
});
