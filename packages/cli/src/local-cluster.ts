/**
 * Runs CodeMaestro's services as separate local processes, the way `make demo` and the
 * end-to-end tests need them: free ports chosen up front, one shared environment, logs to
 * files, readiness by `grpc.health.v1` Check, and a clean stop (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { HealthCheckResponse_ServingStatus, HealthClient, generateApiKey } from '@maestro/contracts';
import { createGrpcClient } from '@maestro/runtime';
import { CliDefaults } from './cli-env.js';
import { freePort } from './free-port.js';
import { isOrphanedGroup, signalGroup } from './process-group.js';
import { stopTargets } from './stop-targets.js';

/** The services of the cluster, in start order (servers before their clients). */
export const ServiceNames = [
  'lock-manager',
  'memory',
  'router',
  'workflow-engine',
  'orchestrator',
  'executor',
  'gateway',
] as const;
export type ServiceName = (typeof ServiceNames)[number];

/** Services that own tables and ship a `dist/migrate.js`. */
export const MigratingServices = ['workflow-engine', 'orchestrator', 'memory', 'router', 'gateway'] as const;

/** The env variable holding each service's gRPC address. */
export const GrpcAddrVariables: Record<ServiceName | 'gateway', string> = {
  gateway: 'MAESTRO_GATEWAY_GRPC_ADDR',
  orchestrator: 'MAESTRO_ORCHESTRATOR_GRPC_ADDR',
  'workflow-engine': 'MAESTRO_WORKFLOW_ENGINE_GRPC_ADDR',
  router: 'MAESTRO_ROUTER_GRPC_ADDR',
  'lock-manager': 'MAESTRO_LOCK_MANAGER_GRPC_ADDR',
  memory: 'MAESTRO_MEMORY_GRPC_ADDR',
  executor: 'MAESTRO_EXECUTOR_GRPC_ADDR',
};

/**
 * The gRPC service name each process reports in its health service (besides ''), so start-up
 * waits for *this* service: a port taken meanwhile by some other server answers '' too.
 */
const HealthServiceNames: Record<ServiceName, string> = {
  'workflow-engine': 'maestro.v1.WorkflowService',
  orchestrator: 'maestro.v1.OrchestratorService',
  router: 'maestro.v1.RouterService',
  memory: 'maestro.v1.MemoryService',
  'lock-manager': 'maestro.v1.LockService',
  executor: 'maestro.v1.ExecutorAdminService',
  gateway: '',
};

/** One running service process. */
export interface ServiceProcess {
  name: string;
  /** Instance label (e.g. `executor-2`). */
  label: string;
  pid: number;
  grpcAddr: string;
  /** Its Prometheus `/metrics` port on 127.0.0.1 (0 for a migration run). */
  metricsPort: number;
  logFile: string;
  /** The script the process runs (`services/<name>/dist/main.js`); tells it apart from a process that reused its PID. */
  entry: string;
  /** Resolves with the exit code (null when killed by a signal) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Options for {@link LocalCluster}. */
export interface LocalClusterOptions {
  /** Repository root (holds `services/*​/dist`). */
  root: string;
  /** Where each process's output goes. */
  logDir: string;
  /** Environment shared by every service (URLs, models, namespace …). */
  env: Record<string, string>;
  /**
   * Start each process in a process group of its own, so a Ctrl-C at the terminal reaches only
   * the command that started them (which then stops them in order), and {@link LocalCluster.release}
   * can leave them running after it exits (`maestro up --detach`).
   * @default false
   */
  detached?: boolean;
  /**
   * With {@link detached}: start a watchdog (packages/cli/dist/watchdog-main.js, in a session of
   * its own) that stops every service's process group when this process ends without stopping
   * them — killed with SIGKILL, crashed, or exited on a second Ctrl-C. For a foreground
   * `maestro up`; a `--detach` cluster is meant to outlive its caller and has none.
   * @default false
   */
  watchdog?: boolean;
  /** The grace between SIGTERM and SIGKILL, for {@link LocalCluster.stopAll} and the watchdog. @default CliDefaults.stopGraceMs */
  graceMs?: number;
}

/** A set of local service processes sharing one configuration. */
export class LocalCluster {
  private readonly processes: ServiceProcess[] = [];
  private readonly children: ChildProcess[] = [];
  private watchdog: ChildProcess | undefined;
  /** Every process started, exited or not, so a stop also reaches what an exited service left in its group. */
  private readonly processesByPid = new Map<number, ServiceProcess>();
  /** gRPC address per service name (the first instance's). */
  readonly addresses = new Map<string, string>();
  gatewayPort = 0;
  /**
   * The operator key of this cluster's gateway (`MAESTRO_GATEWAY_BOOTSTRAP_KEY`, scope admin):
   * the one given in `env`, else a random one made here. Clients send it as a bearer token.
   */
  readonly apiKey: string;
  /**
   * The key every service of this cluster signs and verifies NATS control messages with
   * (`MAESTRO_BUS_SIGNING_KEY`): random per cluster, unless `env` gives one.
   */
  private readonly busSigningKey = randomBytes(32).toString('base64url');

  constructor(private readonly options: LocalClusterOptions) {
    this.apiKey = options.env['MAESTRO_GATEWAY_BOOTSTRAP_KEY'] || generateApiKey().key;
    if (options.watchdog === true && options.detached !== true) throw new Error('LocalCluster: watchdog needs detached (it stops process groups)');
    mkdirSync(options.logDir, { recursive: true });
  }

  private get graceMs(): number {
    return this.options.graceMs ?? CliDefaults.stopGraceMs;
  }

  /**
   * Starts the watchdog (once): its stdin is a pipe only this process writes to, not inherited
   * by the services, so it reads end-of-file exactly when this process is gone, however it died.
   */
  private watchdogInput(): NodeJS.WritableStream | undefined {
    if (this.options.watchdog !== true) return undefined;
    if (!this.watchdog) {
      const entry = join(this.options.root, 'packages', 'cli', 'dist', 'watchdog-main.js');
      if (!existsSync(entry)) throw new Error(`not built: ${entry} (the watchdog of a foreground cluster); run \`make build\` first`);
      const logFd = openSync(join(this.options.logDir, 'watchdog.log'), 'a');
      try {
        this.watchdog = spawn(process.execPath, [entry, String(this.graceMs)], { stdio: ['pipe', logFd, logFd], detached: true });
      } finally {
        closeSync(logFd);
      }
      // Neither the watchdog nor its pipe keeps this process alive.
      this.watchdog.unref();
      (this.watchdog.stdin as unknown as { unref?: () => void }).unref?.();
      this.watchdog.stdin!.on('error', () => undefined);
    }
    return this.watchdog.stdin!;
  }

  /** Picks free ports for every service so each knows where the others are. */
  async allocatePorts(): Promise<void> {
    for (const name of ServiceNames) this.addresses.set(name, `127.0.0.1:${await freePort()}`);
    this.gatewayPort = await freePort();
  }

  /** The environment every service gets: shared settings plus every service's address. */
  sharedEnv(): Record<string, string> {
    // A local cluster on 127.0.0.1 talks plaintext gRPC (each service warns so at start).
    const env: Record<string, string> = {
      MAESTRO_GRPC_PLAINTEXT: 'true',
      MAESTRO_BUS_SIGNING_KEY: this.busSigningKey,
      ...this.options.env,
      MAESTRO_GATEWAY_PORT: String(this.gatewayPort),
      MAESTRO_GATEWAY_BOOTSTRAP_KEY: this.apiKey,
    };
    for (const [name, addr] of this.addresses) env[GrpcAddrVariables[name as ServiceName]] = addr;
    return env;
  }

  /** Runs a service's migrations to completion; throws with the log path when they fail. */
  async migrate(name: (typeof MigratingServices)[number]): Promise<void> {
    const proc = this.spawnProcess(name, `${name}-migrate`, join(this.options.root, 'services', name, 'dist', 'migrate.js'), {});
    const { code, signal } = await proc.exited;
    if (code !== 0) throw new Error(`migrations of ${name} failed (exit ${code ?? signal}); see ${proc.logFile}`);
  }

  /**
   * Starts one instance of a service and waits until its health check says SERVING.
   * `extraEnv` overrides per instance (a second executor's own address and id).
   */
  async start(name: ServiceName, options: { label?: string; extraEnv?: Record<string, string>; readyTimeoutMs?: number } = {}): Promise<ServiceProcess> {
    const label = options.label ?? name;
    // Each service's metrics port has a fixed default: two executors, or two clusters on one
    // host, would collide on it. Every process gets a free one of its own.
    const metricsPort = await freePort();
    const proc = this.spawnProcess(name, label, join(this.options.root, 'services', name, 'dist', 'main.js'), {
      MAESTRO_METRICS_PORT: String(metricsPort),
      ...(options.extraEnv ?? {}),
    });
    proc.metricsPort = metricsPort;
    const grpcAddr = options.extraEnv?.[GrpcAddrVariables[name]] ?? this.addresses.get(name)!;
    proc.grpcAddr = grpcAddr;
    await Promise.race([
      waitServing(grpcAddr, options.readyTimeoutMs ?? CliDefaults.readyTimeoutMs, HealthServiceNames[name]),
      proc.exited.then(({ code, signal }) => {
        throw new Error(`${label} exited during start-up (exit ${code ?? signal}); see ${proc.logFile}`);
      }),
    ]);
    return proc;
  }

  private spawnProcess(name: string, label: string, entry: string, extraEnv: Record<string, string>): ServiceProcess {
    // The watchdog runs before the first service does, so no service is ever unwatched.
    const watchdog = this.watchdogInput();
    const logFile = join(this.options.logDir, `${label}.log`);
    // The log is the child's own stdout/stderr (a file descriptor, not a pipe through this
    // process), so its output keeps going to the file after a detached start returns.
    const logFd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [entry], {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...this.sharedEnv(), ...extraEnv },
        stdio: ['ignore', logFd, logFd],
        detached: this.options.detached === true,
      });
    } finally {
      closeSync(logFd);
    }
    this.children.push(child);
    const detached = this.options.detached === true;
    if (child.pid !== undefined) watchdog?.write(`${JSON.stringify({ label, pid: child.pid, entry })}\n`);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const proc: ServiceProcess = {
      name,
      label,
      pid: child.pid ?? -1,
      grpcAddr: '',
      metricsPort: 0,
      logFile,
      entry,
      exited,
      // A detached process leads its own group: the signal reaches the commands it started too.
      kill: (signal = 'SIGTERM') => {
        const running = child.exitCode === null && child.signalCode === null;
        if (detached && child.pid !== undefined && (running || isOrphanedGroup(child.pid))) signalGroup(child.pid, signal);
        else if (running) child.kill(signal);
      },
    };
    this.processes.push(proc);
    if (child.pid !== undefined) this.processesByPid.set(child.pid, proc);
    void exited.then(() => {
      const i = this.processes.indexOf(proc);
      if (i >= 0) this.processes.splice(i, 1);
    });
    return proc;
  }

  /**
   * Lets this process exit while the services keep running (with {@link LocalClusterOptions.detached}):
   * nothing of theirs keeps the event loop alive any more.
   */
  release(): void {
    for (const child of this.children) child.unref();
  }

  /** Running processes. */
  get running(): readonly ServiceProcess[] {
    return this.processes;
  }

  /**
   * SIGTERM to every process (clients first, in reverse start order; with {@link LocalClusterOptions.detached}
   * to its whole process group), SIGKILL after the grace; resolves with the labels of any still
   * running after that.
   */
  async stopAll(graceMs = this.graceMs): Promise<string[]> {
    const detached = this.options.detached === true;
    const targets = [...this.children].reverse().flatMap((child) => {
      const proc = this.processesByPid.get(child.pid ?? -1);
      if (!proc) return [];
      const pid = proc.pid;
      const running = (): boolean => child.exitCode === null && child.signalCode === null;
      return [{ label: proc.label, pid, alive: () => running() || (detached && isOrphanedGroup(pid)), signal: (sig: NodeJS.Signals) => proc.kill(sig) }];
    });
    const left = await stopTargets(targets, { graceMs });
    return left.map((t) => t.label);
  }
}

/** Resolves once `grpc.health.v1` Check(`service`) at `address` answers SERVING. */
export async function waitServing(address: string, timeoutMs: number, service = ''): Promise<void> {
  const client = createGrpcClient(HealthClient, address, { deadlineMs: 1000 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        const res = await client.call.check({ service });
        if (res.status === HealthCheckResponse_ServingStatus.SERVING) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`${address} not SERVING after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    client.close();
  }
}
