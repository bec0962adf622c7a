/**
 * The lock-manager under benchmark: the real binary (`services/lock-manager/dist/main.js`, or
 * `BENCH_LOCK_MANAGER_MAIN`), started with its configuration in the environment and ready once it
 * logs "grpc server listening" (it binds port 0 and the port is read from that line). Only
 * processes started here are ever signalled, each by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** One running replica. */
export interface LockManagerReplica {
  readonly child: ChildProcess;
  /** `127.0.0.1:<port>` of its gRPC server. */
  readonly address: string;
  readonly exited: Promise<void>;
}

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
export async function startLockManager(options: LockManagerReplicaOptions): Promise<LockManagerReplica> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // Info, as deployed: the port is read from the info line "grpc server listening".
    MAESTRO_LOG_LEVEL: 'info',
    MAESTRO_LOCK_MANAGER_GRPC_ADDR: '127.0.0.1:0',
    MAESTRO_REDIS_URL: options.redisUrl,
    MAESTRO_NATS_URL: options.natsUrl,
    MAESTRO_NATS_NAMESPACE: options.natsNamespace,
    MAESTRO_LOCK_KEY_PREFIX: options.keyPrefix,
  };
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => fail(new Error(`lock-manager not ready after ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      if (output.length < 20_000) output += chunk.toString('utf8');
      const match = /"port":(\d+)[^\n]*"msg":"grpc server listening"/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}: node ${options.main}\n${output}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => fail(new Error('lock-manager exited before it was ready')));
  });
  // Keep draining the pipes so a chatty replica never blocks on a full pipe.
  child.stdout?.removeAllListeners('data').resume();
  child.stderr?.removeAllListeners('data').resume();
  return { child, address: `127.0.0.1:${port}`, exited };
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopLockManager(replica: LockManagerReplica, graceMs = 5_000): Promise<void> {
  if (replica.child.exitCode !== null || replica.child.signalCode !== null) return;
  replica.child.kill('SIGTERM');
  const timer = setTimeout(() => replica.child.kill('SIGKILL'), graceMs);
  await replica.exited;
  clearTimeout(timer);
}
