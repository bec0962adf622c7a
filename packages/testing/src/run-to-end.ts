/**
 * Runs a command to its end and hands back what it printed: for tests that drive a CLI as a
 * user would (its exit code, its stdout and its stderr), bounded by a timeout that kills it.
 */
import { spawn } from 'node:child_process';

/** How a command run by {@link runToEnd} ended. */
export interface RunResult {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link runToEnd}. */
export interface RunToEndOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Past this the command is SIGKILLed and the run rejects with what it printed so far. */
  timeoutMs: number;
}

/** Spawns `command args` (no shell, no stdin) and resolves when it has exited and its output closed. */
export function runToEnd(command: string, args: readonly string[], options: RunToEndOptions): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${[command, ...args].join(' ')} did not end in ${options.timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}
