/**
 * Real lock-manager processes for the load and fencing tests: `node services/lock-manager/dist/main.js`
 * with its configuration in the environment, its gRPC port read from the "grpc server listening"
 * log line (it binds port 0), and stopped by its own pid only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { LockServiceClient } from '@maestro/contracts';
import { createGrpcClient, type GrpcClient } from '@maestro/runtime';

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

/** A running lock-manager replica. */
export class LockManagerProcess {
  private readonly lines: Array<Record<string, unknown>> = [];
  private stderr = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '' || this.lines.length > 5_000) continue;
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.stderr.length < 20_000) this.stderr += chunk;
    });
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolveExit();
      });
    });
  }

  /** Starts a replica and resolves once it serves gRPC. */
  static async start(options: LockManagerProcessOptions): Promise<LockManagerProcess> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MAESTRO_LOG_LEVEL: 'info',
      MAESTRO_LOCK_MANAGER_GRPC_ADDR: '127.0.0.1:0',
      MAESTRO_REDIS_URL: options.redisUrl,
      MAESTRO_NATS_URL: options.natsUrl,
      MAESTRO_NATS_NAMESPACE: options.natsNamespace,
      MAESTRO_LOCK_KEY_PREFIX: options.keyPrefix,
    };
    const child = spawn(process.execPath, [LOCK_MANAGER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const replica = new LockManagerProcess(child);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    while (replica.listeningPort() === undefined) {
      if (replica.exit !== undefined || Date.now() > deadline) {
        await replica.stop();
        throw new Error(`lock-manager never served gRPC (exit ${JSON.stringify(replica.exit)}):\n${replica.output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return replica;
  }

  /** The OS process id. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** `127.0.0.1:<port>` of its gRPC server. */
  get address(): string {
    const port = this.listeningPort();
    if (port === undefined) throw new Error('lock-manager has not logged its gRPC port');
    return `127.0.0.1:${port}`;
  }

  /** A LockService client for this replica; the caller closes it. */
  client(deadlineMs = 10_000): GrpcClient<LockServiceClient> {
    return createGrpcClient(LockServiceClient, this.address, { deadlineMs });
  }

  /** Everything the process printed, for failure messages. */
  output(): string {
    return `${this.lines.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr}`;
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
    const line = this.lines.find((l) => l.msg === 'grpc server listening');
    return typeof line?.port === 'number' ? line.port : undefined;
  }
}
