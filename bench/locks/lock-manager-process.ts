/**
 * The lock-manager under benchmark: the real binary (`services/lock-manager/dist/main.js`, or
 * `BENCH_LOCK_MANAGER_MAIN`), started with its configuration in the environment and ready once it
 * logs "grpc server listening" (it binds port 0 and the port is read from that line). Only
 * processes started here are ever signalled, each by its own pid.
 */
import { ServiceProcess } from '@maestro/testing';

/** One running replica. */
export type LockManagerReplica = ServiceProcess;

/** What a replica is started with. */
export interface LockManagerReplicaOptions {
  main: string;
  redisUrl: string;
  natsUrl: string;
  natsNamespace: string;
  keyPrefix: string;
  /** Node flags for the replica (e.g. `--cpu-prof`). @default [] */
  nodeArgs?: readonly string[];
  /** @default 30000 */
  readyTimeoutMs?: number;
}

/** Starts one replica; rejects with its output when it exits or is not ready in time. */
export function startLockManager(options: LockManagerReplicaOptions): Promise<ServiceProcess> {
  return ServiceProcess.start({
    main: options.main,
    // Info, as deployed: the port is read from the info line "grpc server listening".
    env: {
      MAESTRO_LOG_LEVEL: 'info',
      MAESTRO_LOCK_MANAGER_GRPC_ADDR: '127.0.0.1:0',
      MAESTRO_REDIS_URL: options.redisUrl,
      MAESTRO_NATS_URL: options.natsUrl,
      MAESTRO_NATS_NAMESPACE: options.natsNamespace,
      MAESTRO_LOCK_KEY_PREFIX: options.keyPrefix,
    },
    ...(options.nodeArgs !== undefined ? { nodeArgs: options.nodeArgs } : {}),
    ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
  });
}
