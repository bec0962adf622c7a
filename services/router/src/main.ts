/**
 * The router service: config → logger → database → bus → router server → metrics endpoint →
 * lifecycle. No logic.
 */
import { busSigningFrom, connectBus, type Bus } from '@maestro/bus';
import { createDb } from '@maestro/db';
import { compileTransportSecurity, createLogger, initTelemetry, runService, serveMetrics } from '@maestro/runtime';
import { loadRouterConfig } from './config.js';
import { createRouterServer, loadRouterModels } from './router-server.js';
import { PostgresUsageLedger, type RouterDatabase } from './store/postgres-usage-ledger.js';
import { subscribeWorkVerdicts } from './transport/nats/work-verdicts.subscriber.js';

runService('router', async (lifecycle) => {
  const config = loadRouterConfig();
  const security = compileTransportSecurity(config);
  const logger = createLogger({ service: 'router', level: config.logLevel });
  lifecycle.setLogger(logger);
  const telemetry = initTelemetry({ serviceName: 'router', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());

  // Policy, prices and providers before anything connects: a model that cannot be served stops
  // the service at once, with the variable named, whether or not the servers are up.
  const models = loadRouterModels(config, { logger });

  const db = createDb<RouterDatabase>({ url: config.databaseUrl, applicationName: 'router', logger });
  lifecycle.onShutdown('database', () => db.destroy());
  const ledger = new PostgresUsageLedger(db);

  const bus: Bus = await connectBus({ url: config.natsUrl, name: 'router', logger, namespace: config.natsNamespace, signing: busSigningFrom(config) });
  lifecycle.onShutdown('bus', () => bus.close());
  await bus.ensureStreams();
  const verdicts = await subscribeWorkVerdicts(bus, ledger);
  lifecycle.onShutdown('verdicts', () => verdicts.stop());

  const { server } = createRouterServer(config, { ledger, bus, logger, security, healthPort: config.grpcHealthPort }, models);
  await server.start();
  lifecycle.onShutdown('grpc', () => server.shutdown());
  await serveMetrics({ service: 'router', host: config.metricsHost, port: config.metricsPort, logger, lifecycle });
});
