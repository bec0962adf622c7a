/**
 * The router service: config → logger → providers → bus → gRPC server → lifecycle. No logic.
 */
import { RouterServiceService } from '@maestro/contracts';
import { connectBus } from '@maestro/bus';
import { createGrpcServer, createLogger, initTelemetry, runService } from '@maestro/runtime';
import { loadRouterConfig } from './config.js';
import { createRoleProviders } from './providers.js';
import { createRouterHandlers } from './transport/grpc/router.handler.js';
import { createBusLlmEventPublisher } from './transport/nats/llm-events.publisher.js';

runService('router', async (lifecycle) => {
  const config = loadRouterConfig();
  const logger = createLogger({ service: 'router', level: config.logLevel });
  lifecycle.setLogger(logger);
  const telemetry = initTelemetry({ serviceName: 'router', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());

  // Providers before the bus: a model that cannot be served stops the service at once,
  // with the variable named, whether or not NATS is reachable.
  const routes = createRoleProviders(config);
  logger.info('models configured', {
    strategic: config.strategicModel.spec,
    tactical: config.tacticalModel.spec,
    scripted: routes.strategic.spec.provider === 'scripted' || routes.tactical.spec.provider === 'scripted',
  });

  const bus = await connectBus({ url: config.natsUrl, name: 'router', logger, namespace: config.natsNamespace });
  lifecycle.onShutdown('bus', () => bus.close());
  await bus.ensureStreams();

  const server = createGrpcServer({ address: config.grpcAddr, logger, serviceNames: ['maestro.v1.RouterService'] });
  server.add(RouterServiceService, createRouterHandlers({ routes, events: createBusLlmEventPublisher(bus) }));
  await server.start();
  lifecycle.onShutdown('grpc', () => server.shutdown());
});
