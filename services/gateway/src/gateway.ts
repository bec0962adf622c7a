/**
 * Assembles a running gateway from its configuration: NATS, the gRPC clients of its
 * upstreams, the event hub, the HTTP app and the gRPC health server. `main.ts` calls it once;
 * integration tests call it too, so they exercise exactly the production wiring.
 */
import { busSigningFrom, connectBus } from '@maestro/bus';
import {
  HealthClient,
  LockServiceClient,
  MemoryServiceClient,
  RouterServiceClient,
  OrchestratorServiceClient,
  WorkflowServiceClient,
} from '@maestro/contracts';
import { createDb } from '@maestro/db';
import { UnexpectedError, createGrpcClient, createGrpcServer, processRegistry, systemClock, type Logger, type Registry, type TransportSecurity } from '@maestro/runtime';
import type { AddressInfo } from 'node:net';
import { buildGatewayApp } from './app.js';
import { createAuthenticator } from './auth/authenticator.js';
import { installBootstrapKey } from './auth/bootstrap-key.js';
import { createOidcVerifier } from './auth/oidc-verifier.js';
import { PostgresApiKeyStore, type GatewayTables } from './auth/postgres-api-key-store.js';
import { acceptsCredential, checkGatewayConfig, type GatewayConfig } from './config.js';
import { createGatewayMetrics, instrumentGrpcClient, type GrpcServiceDefinition } from './metrics.js';
import { namedUpstream } from './transport/grpc/named-upstream.js';
import { createUpstreamHealthProbe } from './transport/grpc/upstream-health.js';
import { subscribeToEvents } from './transport/nats/event-subscriber.js';
import { BusKeyRevocations } from './transport/nats/key-revocations.js';
import { RunEventHub } from './transport/nats/run-event-hub.js';

/** Options for {@link startGateway} besides the configuration. */
export interface StartGatewayOptions {
  logger: Logger;
  /**
   * The viewer's build directory when `MAESTRO_WEB_DIST` is empty (main.ts passes
   * packages/web/dist, found from its own location). No viewer routes when neither is set.
   */
  defaultWebDist?: string;
  /** Where the gateway's metrics are recorded (`main.ts` serves it on /metrics). @default processRegistry() */
  metrics?: Registry;
  /**
   * gRPC transport security of its upstream clients and its health server (mTLS as identity
   * `gateway`, or plaintext), from compileTransportSecurity. @default PLAINTEXT
   */
  security?: TransportSecurity;
  /** Plaintext health-only port for kubelet probes (MAESTRO_GRPC_HEALTH_PORT). @default 0 (none) */
  healthPort?: number;
}

/** A started gateway. */
export interface RunningGateway {
  /** The HTTP port actually bound (differs from the config when it asked for 0). */
  readonly httpPort: number;
  /** The gRPC (health) port actually bound. */
  readonly grpcPort: number;
  /** Stops in order: HTTP (ending SSE streams), gRPC health, event subscription, clients, NATS. */
  stop(): Promise<void>;
}

function webDistOption(dir: string | undefined): { webDist?: string } {
  return dir ? { webDist: dir } : {};
}

/**
 * Connects everything and starts listening. If a step fails, what was already opened is
 * closed again before the error is rethrown.
 */
export async function startGateway(config: GatewayConfig, options: StartGatewayOptions): Promise<RunningGateway> {
  const { logger } = options;
  const stops: Array<{ name: string; stop: () => Promise<void> | void }> = [];
  const stop = async (): Promise<void> => {
    for (const { name, stop: stopOne } of stops.splice(0).reverse()) {
      try {
        await stopOne();
      } catch (err) {
        logger.error('gateway stop step failed', { step: name, err: err instanceof Error ? err.message : String(err) });
      }
    }
  };

  try {
    checkGatewayConfig(config);
    const keys = acceptsCredential(config, 'api-keys')
      ? new PostgresApiKeyStore(createDb<GatewayTables>({ url: config.databaseUrl, applicationName: 'gateway', maxConnections: 4, logger }), { ownsDb: true })
      : undefined;
    if (keys) {
      stops.push({ name: 'api key store', stop: () => keys.close() });
      try {
        await installBootstrapKey(keys, { key: config.bootstrapKey, tenant: config.bootstrapTenant, clock: systemClock, logger });
      } catch (err) {
        // 42P01: undefined_table.
        if ((err as { code?: unknown }).code === '42P01') {
          throw new UnexpectedError('GATEWAY_NOT_MIGRATED', 'the gateway.api_keys table does not exist: run the gateway\'s migrations first (node services/gateway/dist/migrate.js, or make migrate)', { cause: err });
        }
        throw err;
      }
    }
    const oidc = acceptsCredential(config, 'oidc')
      ? createOidcVerifier({
          issuer: config.oidcIssuer,
          audience: config.oidcAudience,
          jwksUrl: config.oidcJwksUrl,
          clockSkewS: config.oidcClockSkewS,
          tenantClaim: config.oidcTenantClaim,
        })
      : undefined;
    const authenticator = createAuthenticator({ ...(keys ? { keys } : {}), ...(oidc ? { oidc } : {}), logger: logger.child({ component: 'auth' }) });

    const bus = await connectBus({
      url: config.natsUrl,
      name: 'gateway',
      logger,
      // Tests (and several installations on one NATS) set MAESTRO_NATS_NAMESPACE.
      namespace: config.natsNamespace,
      // Lifecycle events are verified before a tenant's stream shows them (see the bus README).
      signing: busSigningFrom(config),
    });
    stops.push({ name: 'nats', stop: () => bus.close() });

    const clientOptions = { deadlineMs: config.upstreamDeadlineMs, security: options.security };
    const orchestrator = createGrpcClient(OrchestratorServiceClient, config.orchestratorAddr, clientOptions);
    const workflow = createGrpcClient(WorkflowServiceClient, config.workflowEngineAddr, clientOptions);
    const memory = createGrpcClient(MemoryServiceClient, config.memoryAddr, clientOptions);
    const router = createGrpcClient(RouterServiceClient, config.routerAddr, clientOptions);
    const locks = createGrpcClient(LockServiceClient, config.lockManagerAddr, clientOptions);
    const orchestratorHealth = createGrpcClient(HealthClient, config.orchestratorAddr, clientOptions);
    stops.push({
      name: 'grpc clients',
      stop: () => {
        for (const client of [orchestrator, workflow, memory, router, locks, orchestratorHealth]) client.close();
      },
    });

    // Each upstream call is timed by its gRPC status first; then its transient failures are named.
    const metrics = createGatewayMetrics(options.metrics ?? processRegistry());
    const upstream = <T extends object>(name: string, client: T, service: GrpcServiceDefinition): T =>
      namedUpstream(name, instrumentGrpcClient(client, service, metrics));

    const hub = new RunEventHub(logger.child({ component: 'events' }));
    const subscription = await subscribeToEvents(bus, hub);
    stops.push({ name: 'event subscription', stop: () => subscription.unsubscribe() });

    const keyRevocations = new BusKeyRevocations(bus);
    stops.push({ name: 'key revocations', stop: () => keyRevocations.close() });

    const app = buildGatewayApp({
      orchestrator: upstream('orchestrator', orchestrator.call, OrchestratorServiceClient.service),
      workflow: upstream('workflow-engine', workflow.call, WorkflowServiceClient.service),
      memory: upstream('memory', memory.call, MemoryServiceClient.service),
      router: upstream('router', router.call, RouterServiceClient.service),
      locks: upstream('lock-manager', locks.call, LockServiceClient.service),
      events: hub,
      health: createUpstreamHealthProbe({
        natsConnected: () => bus.connected,
        orchestratorHealth,
        logger,
      }),
      auth: { authenticator, ...(keys ? { keys } : {}) },
      keyRevocations,
      logger,
      metrics: metrics.registry,
      sseHeartbeatMs: config.sseHeartbeatMs,
      ...webDistOption(config.webDist || options.defaultWebDist),
    });
    await app.listen({ port: config.httpPort, host: config.httpHost });
    stops.push({ name: 'http', stop: () => app.close() });
    const httpPort = (app.server.address() as AddressInfo).port;

    // Health turns SERVING only once HTTP is listening, so "healthy" means "ready for requests".
    const grpcServer = createGrpcServer({ address: config.grpcAddr, logger, serviceNames: [], security: options.security, healthPort: options.healthPort });
    const grpcPort = await grpcServer.start();
    stops.push({ name: 'grpc server', stop: () => grpcServer.shutdown() });
    logger.info('gateway listening', { host: config.httpHost, httpPort, grpcPort });

    return { httpPort, grpcPort, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
