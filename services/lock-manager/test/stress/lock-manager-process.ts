/**
 * Real lock-manager processes for the load and fencing tests: `node services/lock-manager/dist/main.js`
 * as a `ServiceProcess` of `@maestro/testing` (port 0, read from its log; stopped by its own pid).
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { LockServiceClient } from '@maestro/contracts';
import { createGrpcClient, type GrpcClient } from '@maestro/runtime';
import { ServiceProcess } from '@maestro/testing';

/** The workspace root (three levels above `services/lock-manager/test/stress`). */
export const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..', '..');

/** The built entry point the processes run. */
export const LOCK_MANAGER_MAIN = join(WORKSPACE_ROOT, 'services', 'lock-manager', 'dist', 'main.js');

/**
 * Builds the lock-manager (and the packages it references) so `dist/main.js` matches the
 * sources; a failed build throws with the compiler's output.
 */
export function buildLockManager(): void {
  try {
    execFileSync('pnpm', ['exec', 'tsc', '-b', 'services/lock-manager'], { cwd: WORKSPACE_ROOT, stdio: 'pipe', encoding: 'utf8' });
  } catch (err) {
    const output = (err as { stdout?: string; stderr?: string }).stdout ?? '';
    throw new Error(`pnpm exec tsc -b services/lock-manager failed:\n${output.slice(0, 4_000)}`, { cause: err });
  }
}

/** How one replica is configured; everything else comes from the lock-manager's defaults. */
export interface LockManagerProcessOptions {
  /** Redis key prefix; replicas that share it share the locks. */
  keyPrefix: string;
  /** Bus namespace for its streams and events. */
  natsNamespace: string;
  redisUrl: string;
  natsUrl: string;
  /** @default 30000 */
  readyTimeoutMs?: number;
}

/** A running lock-manager replica (a {@link ServiceProcess} of `dist/main.js`). */
export class LockManagerProcess {
  private constructor(private readonly service: ServiceProcess) {}

  /** Starts a replica and resolves once it serves gRPC. */
  static async start(options: LockManagerProcessOptions): Promise<LockManagerProcess> {
    const service = await ServiceProcess.start({
      main: LOCK_MANAGER_MAIN,
      env: {
        MAESTRO_LOG_LEVEL: 'info',
        MAESTRO_LOCK_MANAGER_GRPC_ADDR: '127.0.0.1:0',
        MAESTRO_REDIS_URL: options.redisUrl,
        MAESTRO_NATS_URL: options.natsUrl,
        MAESTRO_NATS_NAMESPACE: options.natsNamespace,
        MAESTRO_LOCK_KEY_PREFIX: options.keyPrefix,
      },
      ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    });
    return new LockManagerProcess(service);
  }

  /** The OS process id. */
  get pid(): number {
    return this.service.pid;
  }

  /** `127.0.0.1:<port>` of its gRPC server. */
  get address(): string {
    return this.service.address;
  }

  /** A LockService client for this replica; the caller closes it. */
  client(deadlineMs = 10_000): GrpcClient<LockServiceClient> {
    return createGrpcClient(LockServiceClient, this.address, { deadlineMs });
  }

  /** Everything the process printed, for failure messages. */
  output(): string {
    return this.service.output();
  }

  /** SIGTERM, then SIGKILL after `graceMs`; only this process is signalled. */
  stop(graceMs = 5_000): Promise<void> {
    return this.service.stop(graceMs);
  }
}
