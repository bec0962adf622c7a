/**
 * The executor process: config → logger/telemetry → bus and gRPC clients → executor → admin
 * server. No logic here; see `executor.ts`.
 */
import { busSigningFrom, connectBus } from '@maestro/bus';
import { countTokens } from '@maestro/llm';
import { ExecutorAdminServiceService, LockServiceClient, MemoryServiceClient, RouterServiceClient } from '@maestro/contracts';
import { compileTransportSecurity, createGrpcClient, createGrpcServer, createLogger, initTelemetry, loadConfig, runService, serveMetrics } from '@maestro/runtime';
import { executorConfigSpec } from './config.js';
import { createExecutor } from './executor.js';
import { createExecutorMetrics, instrumentRouterClient } from './metrics.js';
import { createExecutorAdminHandlers } from './transport/grpc/executor-admin.handler.js';

runService(
  'executor',
  async (lifecycle) => {
    const config = loadConfig(executorConfigSpec);
    const security = compileTransportSecurity(config);
    const logger = createLogger({ service: 'executor', level: config.logLevel }).child({ executorId: config.executorId });
    lifecycle.setLogger(logger);
    const telemetry = initTelemetry({ serviceName: 'executor', otlpEndpoint: config.otlpEndpoint });
    lifecycle.onShutdown('telemetry', () => telemetry.shutdown());

    const bus = await connectBus({ url: config.natsUrl, name: `executor-${config.executorId}`, logger, namespace: config.natsNamespace, signing: busSigningFrom(config) });
    lifecycle.onShutdown('bus', () => bus.close());
    await bus.ensureStreams();

    const router = createGrpcClient(RouterServiceClient, config.routerAddr, { security });
    const locks = createGrpcClient(LockServiceClient, config.lockManagerAddr, { security });
    // Optional: without an address agents work without recalled memories (createExecutor says so).
    const memory = config.memoryAddr !== '' ? createGrpcClient(MemoryServiceClient, config.memoryAddr, { deadlineMs: config.recallDeadlineMs, security }) : undefined;
    lifecycle.onShutdown('grpc clients', () => {
      router.close();
      locks.close();
      memory?.close();
    });

    // The o200k token encoder is built on first use, which blocks the event loop for seconds on
    // a busy machine: built now, before any work is pulled, it cannot stall a first subtask's
    // lease extensions into a needless redelivery (seen in the fault suite).
    countTokens('warm up the token encoder');

    const executor = await createExecutor({
      settings: config,
      bus,
      logger,
      router: instrumentRouterClient(router.call, createExecutorMetrics()),
      locks: locks.call,
      ...(memory !== undefined ? { memory: memory.call } : {}),
    });

    const server = createGrpcServer({
      address: config.grpcAddr,
      logger,
      serviceNames: ['maestro.v1.ExecutorAdminService'],
      security,
      healthPort: config.grpcHealthPort,
    });
    server.add(ExecutorAdminServiceService, createExecutorAdminHandlers(executor));
    await server.start();
    lifecycle.onShutdown('grpc server', () => server.shutdown());
    await serveMetrics({ service: 'executor', host: config.metricsHost, port: config.metricsPort, logger, lifecycle });

    await executor.start();
    // Registered last, so it runs first on SIGTERM: stop pulling, finish or hand back work,
    // then the server, clients and bus close behind it.
    lifecycle.onShutdown('work', () => executor.shutdown(config.drainTimeoutMs));
  },
  // A last-resort ceiling only: the executor bounds its own drain by MAESTRO_EXECUTOR_DRAIN_TIMEOUT_MS
  // (up to an hour), and the hooks after it are bounded too.
  { shutdownTimeoutMs: 65 * 60 * 1000 },
);
