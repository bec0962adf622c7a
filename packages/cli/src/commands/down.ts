/**
 * `maestro down`: stops exactly the processes the state file of `maestro up` lists (SIGTERM,
 * then SIGKILL after a grace period) and removes the state file. PIDs that no longer run the
 * recorded program are left alone.
 */
import { ExitCodes, positiveIntOption, type CommandSpec } from '../args.js';
import { isRunning, readClusterState, removeClusterState, runningProcesses, stateDirOf, stateFileOf } from '../cluster-state.js';
import { runCommand, say, type CommandContext } from './context.js';

const usage = `usage: maestro down [--grace-seconds N]

  Stops the cluster \`maestro up\` started (the processes its state file lists, nothing else):
  SIGTERM, then SIGKILL for any still running after the grace period. Removes the state file.

  --grace-seconds N   how long to wait before SIGKILL (1-300, default 15)

  environment: MAESTRO_STATE_DIR (default <workspace>/.maestro), as for \`maestro up\``;

/** The argument spec of `maestro down`. */
export const downSpec: CommandSpec = { name: 'down', usage, options: { 'grace-seconds': { type: 'string' } }, positionals: [] };

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(procs: ReadonlyArray<{ pid: number; entry: string }>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (procs.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

/** Runs `maestro down`. */
export function runDown(argv: readonly string[], ctx: CommandContext): Promise<number> {
  return runCommand(downSpec, argv, ctx, async (args) => {
    const graceMs = (positiveIntOption(args, 'grace-seconds', 300) ?? 15) * 1000;
    const stateDir = stateDirOf(ctx.env, ctx.root);
    const state = readClusterState(stateDir);
    if (!state) {
      say(ctx, `no cluster to stop (no state file at ${stateFileOf(stateDir)})`);
      return ExitCodes.ok;
    }
    // The supervisor first (a foreground `maestro up` stops its services in order), then the
    // services, clients before servers.
    const alive = runningProcesses(state);
    const ordered = [...alive.filter((p) => p === state.supervisor), ...alive.filter((p) => p !== state.supervisor).reverse()];
    for (const proc of ordered) signal(proc.pid, 'SIGTERM');
    await waitGone(ordered, graceMs);
    const stubborn = ordered.filter(isRunning);
    for (const proc of stubborn) {
      say(ctx, `${proc.label} (pid ${proc.pid}) still running after ${graceMs / 1000}s: SIGKILL`);
      signal(proc.pid, 'SIGKILL');
    }
    await waitGone(stubborn, 5000);
    const left = ordered.filter(isRunning);
    if (left.length > 0) {
      ctx.stderr.write(`maestro down: still running: ${left.map((p) => `${p.label} (pid ${p.pid})`).join(', ')}; state kept in ${stateFileOf(stateDir)}\n`);
      return ExitCodes.failed;
    }
    removeClusterState(stateDir);
    say(ctx, `stopped ${ordered.length} process${ordered.length === 1 ? '' : 'es'} of the cluster at ${state.gatewayUrl}${ordered.length < state.processes.length ? ` (${state.processes.length - ordered.length} had already exited)` : ''}`);
    return ExitCodes.ok;
  });
}
