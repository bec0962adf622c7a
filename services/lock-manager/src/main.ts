/**
 * The lock-manager process: config → telemetry and logger → Redis and NATS → gRPC server →
 * metrics endpoint.
 * No logic here; see README.md for what the service does.
 */
import { Redis } from 'ioredis';
import { busSigningFrom, connectBus } from '@maestro/bus';
import { compileTransportSecurity, createLogger, initTelemetry, loadConfig, runService, serveMetrics } from '@maestro/runtime';
import { lockManagerConfigSpec } from './config.js';
import { createLockManagerServer } from './lock-manager-server.js';
import { RedisLockStore } from './store/redis-lock-store.js';
import { createBusLockEventPublisher } from './transport/nats/lock-event.publisher.js';

runService('lock-manager', async (lifecycle) => {
  const config = loadConfig(lockManagerConfigSpec);
  const security = compileTransportSecurity(config);
  const telemetry = initTelemetry({ serviceName: 'lock-manager', otlpEndpoint: config.otlpEndpoint });
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown());
  const logger = createLogger({ service: 'lock-manager', level: config.logLevel });
  lifecycle.setLogger(logger);

  const redis = new Redis(config.redisUrl);
  redis.on('error', (err: Error) => logger.warn('redis connection error', { err: err.message }));
  lifecycle.onShutdown('redis', async () => {
    await redis.quit();
  });

  const bus = await connectBus({ url: config.natsUrl, name: 'lock-manager', logger, namespace: config.natsNamespace, signing: busSigningFrom(config) });
  lifecycle.onShutdown('bus', () => bus.close());
  await bus.ensureStreams();

  // One dedicated connection for the grant channel (a subscribed connection runs nothing else).
  const subscriber = redis.duplicate();
  subscriber.on('error', (err: Error) => logger.warn('redis subscriber connection error', { err: err.message }));
  lifecycle.onShutdown('redis-subscriber', () => {
    subscriber.disconnect();
  });
  const store = new RedisLockStore({ redis, subscriber, keyPrefix: config.keyPrefix, logger });
  lifecycle.onShutdown('lock-store', () => store.close());

  const server = createLockManagerServer({
    address: config.grpcAddr,
    security,
    healthPort: config.grpcHealthPort,
    logger,
    store,
    events: createBusLockEventPublisher(bus, { logger }),
  });
  await server.start();
  lifecycle.onShutdown('grpc', () => server.shutdown());
  await serveMetrics({ service: 'lock-manager', host: config.metricsHost, port: config.metricsPort, logger, lifecycle });
});
