/**
 * Worker child processes for the benchmark: started with their configuration in the
 * environment, ready once they print a known line, stopped with SIGTERM (SIGKILL after a grace
 * period). Only processes started here are ever signalled, each by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** One worker process. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves when the process exits. */
  readonly exited: Promise<void>;
}

/**
 * Starts `node <args>` and resolves when a stdout line contains `readyText`; rejects when the
 * process exits first or `timeoutMs` passes (its output is in the error).
 */
export async function startWorkerProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  readyText: string,
  timeoutMs = 30_000,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`worker not ready after ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      if (output.length < 20_000) output += chunk.toString('utf8');
      if (output.includes(readyText)) {
        clearTimeout(timer);
        resolve();
      }
    };
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}: node ${args.join(' ')}\n${output}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => fail(new Error('worker exited before it was ready')));
  });
  // Keep draining the pipes so a chatty worker never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, exited };
}

/**
 * Waits for processes being started; when one fails, hands those that did start to
 * `keepStarted` (so they are stopped like the others) and throws the first failure.
 */
export async function startAll(
  starting: ReadonlyArray<Promise<WorkerProcess>>,
  keepStarted: (started: WorkerProcess[]) => void,
): Promise<WorkerProcess[]> {
  const settled = await Promise.allSettled(starting);
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    keepStarted(started);
    throw failure.reason;
  }
  return started;
}

/** Sends SIGTERM to each process, then SIGKILL to those still running after `graceMs`. */
export async function stopWorkerProcesses(processes: readonly WorkerProcess[], graceMs = 10_000): Promise<void> {
  await Promise.all(
    processes.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}
