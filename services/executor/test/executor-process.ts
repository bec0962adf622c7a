/**
 * Real executor processes for integration tests: `node services/executor/dist/main.js` as a
 * `ServiceProcess` of `@maestro/testing` (its JSON log lines kept for assertions, its admin gRPC
 * port read from the "grpc server listening" line), ready once it pulls work.
 */
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ExecutorAdminServiceClient, type ExecutorStatus } from '@maestro/contracts';
import { createGrpcClient } from '@maestro/runtime';
import { ServiceProcess, type ProcessExit } from '@maestro/testing';

/** The workspace root (two levels above `services/executor/test`). */
export const WORKSPACE_ROOT = resolve(__dirname, '..', '..', '..');

/** The built entry point the processes run. */
export const EXECUTOR_MAIN = join(WORKSPACE_ROOT, 'services', 'executor', 'dist', 'main.js');

/** Builds the executor (and the packages it references) so `dist/main.js` matches the sources. */
export function buildExecutor(): void {
  execFileSync('pnpm', ['exec', 'tsc', '-b', 'services/executor'], { cwd: WORKSPACE_ROOT, stdio: 'pipe' });
}

/** How one process is configured; everything else comes from the executor's defaults. */
export interface ExecutorProcessOptions {
  executorId: string;
  namespace: string;
  concurrency?: number;
  maxDeliver?: number;
  ackWaitMs?: number;
  drainTimeoutMs?: number;
}

/** A running executor process (a {@link ServiceProcess} of `dist/main.js`). */
export class ExecutorProcess {
  private admin: ReturnType<typeof createGrpcClient<ExecutorAdminServiceClient>> | undefined;

  private constructor(
    readonly executorId: string,
    private readonly service: ServiceProcess,
  ) {}

  /** Starts a process and waits until it pulls work and serves its admin port. */
  static async start(options: ExecutorProcessOptions): Promise<ExecutorProcess> {
    const service = await ServiceProcess.start({
      main: EXECUTOR_MAIN,
      env: {
        MAESTRO_LOG_LEVEL: 'info',
        MAESTRO_NATS_URL: 'nats://127.0.0.1:4222',
        MAESTRO_NATS_NAMESPACE: options.namespace,
        MAESTRO_EXECUTOR_ID: options.executorId,
        MAESTRO_EXECUTOR_GRPC_ADDR: '127.0.0.1:0',
        MAESTRO_EXECUTOR_CONCURRENCY: String(options.concurrency ?? 2),
        MAESTRO_EXECUTOR_MAX_DELIVER: String(options.maxDeliver ?? 5),
        MAESTRO_EXECUTOR_ACK_WAIT_MS: String(options.ackWaitMs ?? 60_000),
        MAESTRO_EXECUTOR_DRAIN_TIMEOUT_MS: String(options.drainTimeoutMs ?? 25_000),
        // Test repositories are made under the temp directory.
        MAESTRO_REPO_ROOTS: tmpdir(),
      },
      // Tests assert on lines logged late in a long run (draining, hand-back): keep them all.
      maxLogLines: Number.POSITIVE_INFINITY,
    });
    const proc = new ExecutorProcess(options.executorId, service);
    try {
      await service.waitForLog('executor pulling work', 30_000);
    } catch (err) {
      await proc.dispose();
      throw err;
    }
    return proc;
  }

  /** Parsed JSON log lines, in order. */
  get logs(): Array<Record<string, unknown>> {
    return this.service.logs;
  }

  /** Resolves with how the process ended. */
  get exited(): Promise<ProcessExit> {
    return this.service.exited;
  }

  /** The OS process id. */
  get pid(): number {
    return this.service.pid;
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.service.hasExited;
  }

  /** Sends a signal to this process (and only this one). */
  signal(signal: NodeJS.Signals): void {
    this.service.signal(signal);
  }

  /** The admin port from the "grpc server listening" log line. */
  get adminPort(): number {
    return Number(this.service.address.split(':')[1]);
  }

  /** `GetStatus` over the admin gRPC service. */
  async status(): Promise<ExecutorStatus> {
    this.admin ??= createGrpcClient(ExecutorAdminServiceClient, this.service.address, { deadlineMs: 5_000 });
    return this.admin.call.getStatus({});
  }

  /** Waits for a log line with this message; fails with the process's output when it exits first. */
  waitForLog(msg: string, timeoutMs: number): Promise<Record<string, unknown>> {
    return this.service.waitForLog(msg, timeoutMs);
  }

  /** Everything the process printed, for failure messages. */
  output(): string {
    return this.service.output();
  }

  /** Closes the admin client; kills the process when it is still running. */
  async dispose(): Promise<void> {
    this.admin?.close();
    this.admin = undefined;
    if (!this.hasExited) {
      this.service.signal('SIGKILL');
      await this.service.exited;
    }
  }
}
