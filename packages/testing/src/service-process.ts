/**
 * A real service binary for load, fault and benchmark runs: `node <main>` with its configuration
 * in the environment, binding its gRPC port 0 and read ready from its own "grpc server
 * listening" log line (so no port is chosen up front and none can be taken meanwhile), stopped
 * by its own pid only.
 *
 * @example
 * const lm = await ServiceProcess.start({ main: 'services/lock-manager/dist/main.js',
 *   env: { MAESTRO_LOCK_MANAGER_GRPC_ADDR: '127.0.0.1:0', MAESTRO_REDIS_URL: url } });
 * lm.address; // '127.0.0.1:41234'
 * await lm.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { testBusSigningKey } from './test-bus-signing.js';

/** How a service binary is started. */
export interface ServiceProcessOptions {
  /** The built entry point (`services/<name>/dist/main.js`). */
  main: string;
  /**
   * Its configuration; PATH and HOME are passed through, nothing else of this process's. Its gRPC
   * address must bind port 0. `MAESTRO_METRICS_PORT` is `0` (metrics off) unless given, so
   * replicas started side by side never fight over a service's default metrics port.
   * `MAESTRO_GRPC_PLAINTEXT` is `true` unless given: a test of mTLS sets it to `false` with
   * the three `MAESTRO_GRPC_TLS_*` files. `MAESTRO_BUS_SIGNING_KEY` is {@link testBusSigningKey}
   * unless given, so every process a test starts signs and verifies with the same key.
   */
  env: Record<string, string>;
  /** Node flags (e.g. `--cpu-prof`). @default [] */
  nodeArgs?: readonly string[];
  /** @default 30000 */
  readyTimeoutMs?: number;
  /** Log lines kept (a chatty benchmark replica would otherwise fill memory). @default 5000 */
  maxLogLines?: number;
}

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Log lines kept when not told otherwise. */
const DEFAULT_MAX_LINES = 5_000;
/** Characters of stderr kept. */
const MAX_STDERR = 20_000;

/** A running service binary. */
export class ServiceProcess {
  /** Its JSON log lines (a line that is not JSON as `{ msg }`), in order, up to `maxLogLines`. */
  readonly logs: Array<Record<string, unknown>> = [];
  private stderr = '';
  private exit: ProcessExit | undefined;
  /** Resolves with how the process ended. */
  readonly exited: Promise<ProcessExit>;

  private constructor(
    readonly child: ChildProcess,
    private readonly main: string,
    maxLines: number,
  ) {
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '' || this.logs.length >= maxLines) continue;
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.logs.push({ msg: line });
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.stderr.length < MAX_STDERR) this.stderr += chunk;
    });
    this.exited = new Promise((resolveExit) => {
      // 'close', not 'exit': the last lines the process wrote (its shutdown logs) are read by
      // then, so a test that asserts on them once it exited sees them all.
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolveExit(this.exit);
      });
    });
  }

  /** Starts the binary and resolves once it logged its gRPC port; rejects with its output otherwise. */
  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    // Plaintext gRPC unless a test gives MAESTRO_GRPC_TLS_* (and MAESTRO_GRPC_PLAINTEXT: 'false').
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, MAESTRO_METRICS_PORT: '0', MAESTRO_GRPC_PLAINTEXT: 'true', MAESTRO_BUS_SIGNING_KEY: testBusSigningKey, ...options.env };
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const service = new ServiceProcess(child, options.main, options.maxLogLines ?? DEFAULT_MAX_LINES);
    try {
      await service.waitForLog('grpc server listening', options.readyTimeoutMs ?? 30_000);
    } catch (err) {
      await service.stop();
      throw err;
    }
    return service;
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** Sends a signal to this process (and only this one) while it runs. */
  signal(signal: NodeJS.Signals): void {
    if (!this.hasExited) this.child.kill(signal);
  }

  /** Waits for a log line with this message; fails with the process's output when it exits first or in time. */
  async waitForLog(msg: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find((l) => l.msg === msg);
      if (line !== undefined) return line;
      if (this.hasExited || Date.now() > deadline) {
        const why = this.hasExited ? `exited (${JSON.stringify(this.exit)})` : `not within ${timeoutMs} ms`;
        throw new Error(`node ${this.main} never logged "${msg}": ${why}\n${this.output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The OS process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** `127.0.0.1:<port>` of its gRPC server. */
  get address(): string {
    const port = this.listeningPort();
    if (port === undefined) throw new Error(`node ${this.main} has not logged its gRPC port`);
    return `127.0.0.1:${port}`;
  }

  /** Everything the process printed (within the kept limits), for failure messages. */
  output(): string {
    return `${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr}`;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; only this process is signalled. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exit !== undefined) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private listeningPort(): number | undefined {
    const line = this.logs.find((l) => l.msg === 'grpc server listening');
    return typeof line?.port === 'number' ? line.port : undefined;
  }
}
