/**
 * Real executor processes for integration tests: `node services/executor/dist/main.js` with its
 * configuration in the environment, its JSON log lines kept for assertions and diagnostics, and
 * its admin gRPC port read from the "grpc server listening" line.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ExecutorAdminServiceClient, type ExecutorStatus } from '@maestro/contracts';
import { createGrpcClient } from '@maestro/runtime';

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

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running executor process. */
export class ExecutorProcess {
  /** Parsed JSON log lines, in order. */
  readonly logs: Array<Record<string, unknown>> = [];
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;
  private admin: ReturnType<typeof createGrpcClient<ExecutorAdminServiceClient>> | undefined;
  private stderr = '';

  private constructor(
    readonly executorId: string,
    private readonly child: ChildProcess,
  ) {
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.logs.push({ msg: line });
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolveExit(this.exit);
      });
    });
  }

  /** Starts a process and waits until it pulls work and serves its admin port. */
  static async start(options: ExecutorProcessOptions): Promise<ExecutorProcess> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MAESTRO_LOG_LEVEL: 'info',
      MAESTRO_NATS_URL: 'nats://127.0.0.1:4222',
      MAESTRO_NATS_NAMESPACE: options.namespace,
      MAESTRO_EXECUTOR_ID: options.executorId,
      MAESTRO_EXECUTOR_GRPC_ADDR: '127.0.0.1:0',
      MAESTRO_EXECUTOR_CONCURRENCY: String(options.concurrency ?? 2),
      MAESTRO_EXECUTOR_MAX_DELIVER: String(options.maxDeliver ?? 5),
      MAESTRO_EXECUTOR_ACK_WAIT_MS: String(options.ackWaitMs ?? 60_000),
      MAESTRO_EXECUTOR_DRAIN_TIMEOUT_MS: String(options.drainTimeoutMs ?? 25_000),
    };
    const child = spawn(process.execPath, [EXECUTOR_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new ExecutorProcess(options.executorId, child);
    try {
      await proc.waitForLog('executor pulling work', 30_000);
    } catch (err) {
      await proc.dispose();
      throw err;
    }
    return proc;
  }

  /** The OS process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** Sends a signal to this process (and only this one). */
  signal(signal: NodeJS.Signals): void {
    if (!this.hasExited) this.child.kill(signal);
  }

  /** The admin port from the "grpc server listening" log line. */
  get adminPort(): number {
    const line = this.logs.find((l) => l.msg === 'grpc server listening');
    if (typeof line?.port !== 'number') throw new Error(`${this.executorId} has not logged its admin port`);
    return line.port;
  }

  /** `GetStatus` over the admin gRPC service. */
  async status(): Promise<ExecutorStatus> {
    this.admin ??= createGrpcClient(ExecutorAdminServiceClient, `127.0.0.1:${this.adminPort}`, { deadlineMs: 5_000 });
    return this.admin.call.getStatus({});
  }

  /** Waits for a log line with this message; fails with the process's output when it exits first. */
  async waitForLog(msg: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find((l) => l.msg === msg);
      if (line !== undefined) return line;
      if (this.hasExited || Date.now() > deadline) {
        throw new Error(`${this.executorId} never logged "${msg}" (exit ${JSON.stringify(this.exit)}):\n${this.output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Everything the process printed, for failure messages. */
  output(): string {
    return `${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr}`;
  }

  /** Closes the admin client; kills the process when it is still running. */
  async dispose(): Promise<void> {
    this.admin?.close();
    this.admin = undefined;
    if (!this.hasExited) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
