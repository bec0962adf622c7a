/**
 * The whole cluster as separate processes (built `dist/`; the end-to-end harness's
 * `startE2eCluster`), on a private nats-server, redis-server and PostgreSQL of its own, so a fault
 * test can kill and restart any of them. Short leases (ack wait, lock TTL) so a dead or paused
 * executor's work moves on quickly.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { connectBus, type Bus } from '@maestro/bus';
import { generateApiKey } from '@maestro/contracts';
import { createSilentLogger } from '@maestro/runtime';
import type { LocalCluster, ServiceName, ServiceProcess } from '@maestro/cli';
import { E2E_READY_TIMEOUT_MS, startE2eCluster } from '../e2e/harness.js';
import { PrivateNats, PrivatePostgres, PrivateRedis } from './private-servers.js';

export const repoRoot = resolve(__dirname, '../..');

/**
 * Where every {@link Gate}'s directory is made. The sandboxed agents' commands see only their
 * worktree and the system unless told otherwise, so a fault cluster lets them read this and the
 * hold script's directory (`MAESTRO_SANDBOX_READ_PATHS`): without it the hold script cannot even
 * be loaded, its `exec` fails at once, and no agent ever waits at the gate.
 */
export const GATE_ROOT = join(realpathSync(tmpdir()), 'maestro-fault-gates');

/** What the sandboxed hold of a fault cluster reads: the hold script and the gates. */
const gateReadPaths = (): string => [join(repoRoot, 'examples', 'scripts'), GATE_ROOT].join(':');

/** How the temp directories of `writeFaultScript` start; a cluster deletes its script's at stop. */
export const FAULT_SCRIPT_DIR_PREFIX = 'maestro-fault-script-';

/** The lease settings of a fault cluster: short, so faults resolve within a test's bounds. */
export const FaultClusterDefaults = {
  /**
   * JetStream ack wait and the executor's work-lease TTL. Not lower: an executor's first subtask
   * was seen to stall its event loop for about 7 s (see README), which a 4 s lease does not survive.
   */
  ackWaitMs: 10_000,
  /** Lock leases' TTL (extended every third of it). */
  lockTtlMs: 10_000,
  executors: 2,
  executorConcurrency: 2,
} as const;

/** Options for {@link startFaultCluster}. */
export interface FaultClusterOptions {
  /** Names the scenario (in the report). */
  scenario: string;
  /** The scripted models' replies (`MAESTRO_SCRIPT_PATH`). */
  scriptPath: string;
  /** @default FaultClusterDefaults.executors */
  executors?: number;
  /** @default FaultClusterDefaults.executorConcurrency */
  executorConcurrency?: number;
  /** Extra environment for every service. */
  env?: Record<string, string>;
}

/** A running fault cluster: its processes, its private servers and a watching bus. */
export interface FaultCluster {
  cluster: LocalCluster;
  gateway: string;
  /** What a request to the gateway must carry (the cluster's operator key). */
  headers: Record<string, string>;
  nats: PrivateNats;
  redis: PrivateRedis;
  postgres: PrivatePostgres;
  /**
   * A bus connection in the cluster's namespace that signs like the services do, so what a test
   * publishes is taken as theirs (reconnects when the private NATS restarts).
   */
  bus: Bus;
  logDir: string;
  /** The running process of a service instance, by label (`executor-2`) or service name. */
  process(label: string): ServiceProcess;
  /** SIGKILLs an instance (by the PID this test started) and waits for it to be gone. */
  kill(label: string): Promise<void>;
  /** Starts an instance again with the settings it first had. */
  restart(label: string): Promise<ServiceProcess>;
  /** The text of an instance's log file (all its starts). */
  log(label: string): string;
  stop(): Promise<void>;
}

/** Starts private servers and every service on them. */
export async function startFaultCluster(options: FaultClusterOptions): Promise<FaultCluster> {
  const nats = await PrivateNats.create();
  const redis = await PrivateRedis.create();
  const postgres = await PrivatePostgres.create();
  const signingKey = randomBytes(32).toString('base64url');
  const concurrency = options.executorConcurrency ?? FaultClusterDefaults.executorConcurrency;
  const destroyServers = async (): Promise<void> => {
    await nats.destroy();
    await redis.destroy();
    await postgres.destroy();
  };
  let e2e: Awaited<ReturnType<typeof startE2eCluster>>;
  let bus: Bus;
  try {
    mkdirSync(GATE_ROOT, { recursive: true });
    await Promise.all([nats.start(), redis.start(), postgres.start()]);
    e2e = await startE2eCluster({
      scriptPath: options.scriptPath,
      executors: options.executors ?? FaultClusterDefaults.executors,
      executorConcurrency: concurrency,
      servers: { natsUrl: nats.url, redisUrl: redis.url, postgresUrl: postgres.url },
      env: {
        MAESTRO_EXECUTOR_ACK_WAIT_MS: String(FaultClusterDefaults.ackWaitMs),
        MAESTRO_LOCK_TTL_MS: String(FaultClusterDefaults.lockTtlMs),
        // The submissions' sample repositories are made under the temp directory.
        MAESTRO_REPO_ROOTS: realpathSync(tmpdir()),
        MAESTRO_BUS_SIGNING_KEY: signingKey,
        // The gateway's operator key, given so every service and the cluster's `apiKey` agree.
        MAESTRO_GATEWAY_BOOTSTRAP_KEY: generateApiKey().key,
        MAESTRO_SANDBOX_READ_PATHS: gateReadPaths(),
        ...options.env,
      },
    });
    bus = await connectBus({ url: nats.url, name: 'fault-watch', logger: createSilentLogger(), namespace: e2e.bus.namespace.name, signing: { key: signingKey } });
  } catch (err) {
    await destroyServers();
    throw err;
  }

  const cluster = e2e.cluster;
  /** How each instance was first started, by label, to start it again the same way. */
  const startOptions = (proc: ServiceProcess): { name: ServiceName; label: string; extraEnv?: Record<string, string> } =>
    proc.name === 'executor'
      ? {
          name: 'executor',
          label: proc.label,
          extraEnv: { MAESTRO_EXECUTOR_GRPC_ADDR: proc.grpcAddr, MAESTRO_EXECUTOR_ID: proc.label, MAESTRO_EXECUTOR_CONCURRENCY: String(concurrency) },
        }
      : { name: proc.name as ServiceName, label: proc.label };
  const starts = new Map(cluster.running.map((proc) => [proc.label, startOptions(proc)]));
  const processOf = (label: string): ServiceProcess => {
    const found = cluster.running.find((p) => p.label === label);
    if (found === undefined) throw new Error(`no running process labelled ${label}`);
    return found;
  };
  return {
    cluster,
    gateway: e2e.gateway,
    headers: { authorization: `Bearer ${e2e.apiKey}` },
    nats,
    redis,
    postgres,
    bus,
    logDir: e2e.logDir,
    process: processOf,
    kill: async (label) => {
      const proc = processOf(label);
      proc.kill('SIGKILL');
      await proc.exited;
    },
    restart: async (label) => {
      const start = starts.get(label);
      if (start === undefined) throw new Error(`no service instance labelled ${label}`);
      return cluster.start(start.name, { label, readyTimeoutMs: E2E_READY_TIMEOUT_MS, ...(start.extraEnv !== undefined ? { extraEnv: start.extraEnv } : {}) });
    },
    log: (label) => {
      try {
        return readFileSync(join(e2e.logDir, `${label}.log`), 'utf8');
      } catch {
        return '';
      }
    },
    stop: async () => {
      await bus.close().catch(() => undefined);
      await e2e.stop();
      await destroyServers();
      // The script writeFaultScript made for this cluster (a path given by the test stays).
      if (basename(dirname(options.scriptPath)).startsWith(FAULT_SCRIPT_DIR_PREFIX)) rmSync(dirname(options.scriptPath), { recursive: true, force: true });
    },
  };
}

/**
 * A gate the scripted agents wait at (their `exec` of examples/scripts/hold-until-file.mjs
 * returns once the file exists), so a test knows work is in the middle of a subtask when it
 * injects its fault. Opening it lets every waiting and later subtask through.
 */
export class Gate {
  readonly file: string;
  private readonly dir: string;

  constructor() {
    mkdirSync(GATE_ROOT, { recursive: true });
    this.dir = mkdtempSync(join(GATE_ROOT, 'gate-'));
    this.file = join(this.dir, 'open');
  }

  open(): void {
    writeFileSync(this.file, 'open\n');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
