/**
 * Every environment variable the gateway reads, declared once. `loadConfig(gatewayConfigSpec)`
 * runs in `main.ts` only.
 */
import { commonEnv, env, grpcAddrEnv, metricsPortEnv, type ConfigOf } from '@maestro/runtime';

/** The gateway's configuration spec: common variables, its HTTP listener, its metrics endpoint and its upstreams. */
export const gatewayConfigSpec = {
  ...commonEnv,
  httpPort: env.port('MAESTRO_GATEWAY_PORT', { default: 8080, doc: 'HTTP port of the public API (0: any free port)' }),
  httpHost: env.string('MAESTRO_GATEWAY_HOST', {
    default: '127.0.0.1',
    doc: 'HTTP listen address; 0.0.0.0 to accept connections from other hosts (containers)',
  }),
  // MAESTRO_METRICS_HOST comes with commonEnv above.
  metricsPort: metricsPortEnv.gateway,
  grpcAddr: grpcAddrEnv.gateway,
  orchestratorAddr: grpcAddrEnv.orchestrator,
  workflowEngineAddr: grpcAddrEnv.workflowEngine,
  memoryAddr: grpcAddrEnv.memory,
  routerAddr: grpcAddrEnv.router,
  lockManagerAddr: grpcAddrEnv.lockManager,
  upstreamDeadlineMs: env.int('MAESTRO_GATEWAY_UPSTREAM_DEADLINE_MS', {
    default: 10_000,
    min: 100,
    max: 300_000,
    doc: 'deadline of each gRPC call to the orchestrator, workflow-engine, memory, router and lock-manager',
  }),
  sseHeartbeatMs: env.int('MAESTRO_GATEWAY_SSE_HEARTBEAT_MS', {
    default: 15_000,
    min: 1_000,
    max: 300_000,
    doc: 'interval of the comment line that keeps idle server-sent-event streams open through proxies; each beat also re-reads the run and ends the stream if it finished unseen',
  }),
  webDist: env.string('MAESTRO_WEB_DIST', {
    default: '',
    doc: 'directory of the built viewer served at /; empty: packages/web/dist, found relative to the gateway package',
  }),
} as const;

/** The gateway's validated, frozen configuration. */
export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;
