/**
 * The router's one wiring file: policy, prices and providers from the config, the completion
 * service over a usage ledger and the bus, and the gRPC server with every RPC. `main.ts` calls
 * it with the real ledger; tests with a test database or the in-memory ledger.
 */
import { RouterServiceService } from '@maestro/contracts';
import type { Bus } from '@maestro/bus';
import { createGrpcServer, systemClock, type Clock, type GrpcServer, type Logger, type Registry, type TransportSecurity } from '@maestro/runtime';
import { CompletionService } from './app/completion-service.js';
import { IntentService } from './app/intent-service.js';
import { SuccessRateCache } from './app/success-rate-cache.js';
import type { RouterConfig } from './config.js';
import { createRouterMetrics, instrumentUsageLedger } from './metrics.js';
import { createModelRegistry, describeKeys, type ModelRegistry } from './model-registry.js';
import { loadRouterData, type RouterData } from './router-data.js';
import type { UsageLedger } from './store/usage-ledger.js';
import { createRouterHandlers } from './transport/grpc/router.handler.js';
import { createBusLlmEventPublisher } from './transport/nats/llm-events.publisher.js';

/** What {@link createRouterServer} needs besides the config. */
export interface RouterServerDeps {
  ledger: UsageLedger;
  bus: Pick<Bus, 'publishEvent'>;
  logger: Logger;
  /** @default systemClock */
  clock?: Clock;
  /** Where model-call and gRPC metrics go. @default processRegistry() */
  metrics?: Registry;
  /** gRPC transport security (mTLS with the caller check, or plaintext), from compileTransportSecurity. @default PLAINTEXT */
  security?: TransportSecurity;
  /** Plaintext health-only port for kubelet probes (MAESTRO_GRPC_HEALTH_PORT). @default 0 (none) */
  healthPort?: number;
}

/** The router, built but not started. */
export interface RouterServer {
  server: GrpcServer;
  completions: CompletionService;
  registry: ModelRegistry;
}

/** What the router decides and accounts by: the policy, the prices and a provider per model. */
export interface RouterModels extends RouterData {
  registry: ModelRegistry;
}

/**
 * Loads the policy and prices and builds every provider. Throws `ConfigError` naming the
 * variable for a bad policy, price table, script, or a configured provider without its key, so
 * `main.ts` calls it before connecting to anything.
 */
export function loadRouterModels(config: RouterConfig, deps: { logger: Logger; clock?: Clock }): RouterModels {
  const { policy, prices } = loadRouterData(config);
  const registry = createModelRegistry(config, policy, { logger: deps.logger, ...(deps.clock ? { clock: deps.clock } : {}) });
  deps.logger.info('models configured', {
    strategic: config.strategicModel.spec,
    tactical: config.tacticalModel.spec,
    strategicFallback: config.strategicFallback.map((s) => s.spec),
    tacticalFallback: config.tacticalFallback.map((s) => s.spec),
    scripted: registry.anyScripted,
    keys: describeKeys(config),
    routingPolicy: config.routingPolicyPath || '(default)',
  });
  return { policy, prices, registry };
}

/**
 * Builds the router over its models (see {@link loadRouterModels}; built here when not given).
 * Nothing listens until `server.start()`.
 */
export function createRouterServer(config: RouterConfig, deps: RouterServerDeps, models?: RouterModels): RouterServer {
  const clock = deps.clock ?? systemClock;
  const { policy, prices, registry } = models ?? loadRouterModels(config, { logger: deps.logger, clock });
  const completions = new CompletionService({
    registry,
    policy,
    prices,
    ledger: instrumentUsageLedger(deps.ledger, createRouterMetrics(deps.metrics)),
    rates: new SuccessRateCache(deps.ledger, { clock, ttlMs: config.statsCacheMs, logger: deps.logger }),
    events: createBusLlmEventPublisher(deps.bus),
    clock,
  });
  const server = createGrpcServer({ address: config.grpcAddr, logger: deps.logger, serviceNames: ['maestro.v1.RouterService'], metrics: deps.metrics, security: deps.security, healthPort: deps.healthPort });
  const intents = new IntentService({ completions, policy, clock });
  server.add(RouterServiceService, createRouterHandlers({ completions, intents, ledger: deps.ledger }));
  return { server, completions, registry };
}
