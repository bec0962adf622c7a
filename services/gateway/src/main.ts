/**
 * The gateway process: configuration → logger and telemetry → {@link startGateway}; stopped
 * gracefully on SIGTERM/SIGINT. No logic lives here.
 */
import { createLogger, initTelemetry, loadConfig, runService } from '@maestro/runtime';
import { gatewayConfigSpec } from './config.js';
import { startGateway } from './gateway.js';

runService('gateway', async (lifecycle) => {
  const config = loadConfig(gatewayConfigSpec);
  const logger = createLogger({ service: 'gateway', level: config.logLevel });
  lifecycle.setLogger(logger);
  const telemetry = initTelemetry({ serviceName: 'gateway', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());
  const gateway = await startGateway(config, { logger });
  lifecycle.onShutdown('gateway', () => gateway.stop());
});
