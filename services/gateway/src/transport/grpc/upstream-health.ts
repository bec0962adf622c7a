/**
 * The production {@link HealthProbe}: the bus's connection state plus the orchestrator's
 * `grpc.health.v1` Check, asked with a short deadline so a hung orchestrator makes `/healthz`
 * answer 503 quickly instead of hanging the probe.
 */
import { HealthCheckResponse_ServingStatus, type HealthClient } from '@maestro/contracts';
import type { GrpcClient, Logger } from '@maestro/runtime';
import { UpstreamHealth, type HealthProbe } from '../../ports.js';

/** Options for {@link createUpstreamHealthProbe}. */
export interface UpstreamHealthProbeOptions {
  /** Whether NATS is connected now (`bus.connected`). */
  natsConnected: () => boolean;
  /** A health client dialled at the orchestrator's address. */
  orchestratorHealth: GrpcClient<HealthClient>;
  /** Deadline of the Check call. @default 2000 */
  deadlineMs?: number;
  logger: Logger;
}

/** Builds the probe `/healthz` uses. */
export function createUpstreamHealthProbe(options: UpstreamHealthProbeOptions): HealthProbe {
  return {
    natsConnected: options.natsConnected,
    orchestrator: async () => {
      try {
        // '' is the whole server: every maestro service registers it (see createGrpcServer).
        const response = await options.orchestratorHealth.call.check({ service: '' }, { deadlineMs: options.deadlineMs ?? 2000 });
        return response.status === HealthCheckResponse_ServingStatus.SERVING ? UpstreamHealth.serving : UpstreamHealth.notServing;
      } catch (err) {
        options.logger.warn('orchestrator health check failed', { err });
        return UpstreamHealth.unreachable;
      }
    },
  };
}
