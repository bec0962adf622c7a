/**
 * The `ExecutorAdminService` handlers: status for operators and autoscalers, and drain for a
 * replica about to be removed.
 */
import type { ExecutorAdminServiceServer, ExecutorStatus } from '@maestro/contracts';
import { unary } from '@maestro/runtime';

/** What the admin service asks of the executor. */
export interface ExecutorAdmin {
  status(): ExecutorStatus;
  /** Stops pulling new work (in-flight work finishes) and returns the status after that. */
  drain(): ExecutorStatus;
}

/** Builds the gRPC handlers of `maestro.v1.ExecutorAdminService`. */
export function createExecutorAdminHandlers(executor: ExecutorAdmin): ExecutorAdminServiceServer {
  return {
    getStatus: unary(async () => executor.status()),
    drain: unary(async (_request, ctx) => {
      const status = executor.drain();
      ctx.logger.info('drain requested', { inFlight: status.inFlight });
      return status;
    }),
  };
}
