/**
 * The workflow-engine under benchmark: the real binary (`services/workflow-engine/dist/main.js`,
 * or `BENCH_ENGINE_MAIN`), started with its configuration in the environment and ready once it
 * logs "grpc server listening" (it binds port 0; the port is read from that line). Only the
 * process started here is ever signalled, by its own pid.
 */
import { ServiceProcess } from '@maestro/testing';

/** What the engine is started with. */
export interface EngineProcessOptions {
  main: string;
  databaseUrl: string;
  natsUrl: string;
  natsNamespace: string;
  /** `MAESTRO_WORKFLOW_ENGINE_RESULT_CONCURRENCY`; undefined = the service's default. */
  resultConcurrency?: number;
  /** `MAESTRO_WORKFLOW_ENGINE_STEP_BATCH` (1: no group commit); undefined = the service's default. */
  stepBatch?: number;
  /** Node flags (e.g. `--cpu-prof`). @default [] */
  nodeArgs?: readonly string[];
}

/** Starts the engine; rejects with its output when it exits or is not ready in time. */
export function startEngineProcess(options: EngineProcessOptions): Promise<ServiceProcess> {
  return ServiceProcess.start({
    main: options.main,
    // Info, as deployed (and the port is read from the info line "grpc server listening").
    env: {
      MAESTRO_LOG_LEVEL: 'info',
      MAESTRO_WORKFLOW_ENGINE_GRPC_ADDR: '127.0.0.1:0',
      MAESTRO_DATABASE_URL: options.databaseUrl,
      MAESTRO_NATS_URL: options.natsUrl,
      MAESTRO_NATS_NAMESPACE: options.natsNamespace,
      ...(options.resultConcurrency !== undefined ? { MAESTRO_WORKFLOW_ENGINE_RESULT_CONCURRENCY: String(options.resultConcurrency) } : {}),
      ...(options.stepBatch !== undefined ? { MAESTRO_WORKFLOW_ENGINE_STEP_BATCH: String(options.stepBatch) } : {}),
    },
    nodeArgs: options.nodeArgs ?? [],
    // Every transition logs a line at info; only the first ones are needed (the port).
    maxLogLines: 200,
    readyTimeoutMs: 60_000,
  });
}
