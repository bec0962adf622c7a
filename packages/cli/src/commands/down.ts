/**
 * `maestro down`: stops exactly the processes the state file of `maestro up` lists (SIGTERM,
 * then SIGKILL after a grace period) and removes the state file. Each service leads a process
 * group of its own, and the whole group is signalled, so the commands a service started (an
 * executor's test runners, git) stop with it. PIDs that no longer run the recorded program are
 * left alone.
 */
import { ExitCodes, positiveIntOption, type CommandSpec } from '../args.js';
import { CliDefaults } from '../cli-env.js';
import { groupTarget, isRunning, ownsGroup, readClusterState, removeApiKeyFile, removeClusterState, stateDirOf, stateFileOf, type ClusterProcessState } from '../cluster-state.js';
import { stopTargets, type StopTarget } from '../stop-targets.js';
import { runCommand, say, type CommandContext } from './context.js';

const usage = `usage: maestro down [--grace-seconds N]

  Stops the cluster \`maestro up\` started (the processes its state file lists and the commands
  they started, nothing else): SIGTERM, then SIGKILL for any still running after the grace
  period. Removes the state file.

  --grace-seconds N   how long to wait before SIGKILL (1-${CliDefaults.maxGraceSeconds}, default ${CliDefaults.stopGraceMs / 1000})

  environment: MAESTRO_STATE_DIR (default <workspace>/${CliDefaults.stateDirName}), as for \`maestro up\``;

/** The argument spec of `maestro down`. */
export const downSpec: CommandSpec = { name: 'down', usage, options: { 'grace-seconds': { type: 'string' } }, positionals: [] };

/**
 * The foreground `maestro up` is signalled alone (it is not a service's group leader, and it
 * stops its services in order itself).
 */
function supervisorTarget(proc: ClusterProcessState): StopTarget {
  return {
    label: proc.label,
    pid: proc.pid,
    alive: () => isRunning(proc),
    signal: (sig) => {
      try {
        process.kill(proc.pid, sig);
      } catch {
        // already gone
      }
    },
  };
}

/** Runs `maestro down`. */
export function runDown(argv: readonly string[], ctx: CommandContext): Promise<number> {
  return runCommand(downSpec, argv, ctx, async (args) => {
    const graceMs = (positiveIntOption(args, 'grace-seconds', CliDefaults.maxGraceSeconds) ?? CliDefaults.stopGraceMs / 1000) * 1000;
    const stateDir = stateDirOf(ctx.env, ctx.root);
    const state = readClusterState(stateDir);
    if (!state) {
      say(ctx, `no cluster to stop (no state file at ${stateFileOf(stateDir)})`);
      return ExitCodes.ok;
    }
    // The supervisor first, then the services, clients before servers. A service counts while
    // its group is ours: itself, or what it started after it exited.
    const supervisor = state.supervisor && isRunning(state.supervisor) ? [supervisorTarget(state.supervisor)] : [];
    const services = state.processes.filter(ownsGroup).reverse().map(groupTarget);
    const ordered = [...supervisor, ...services];
    const left = await stopTargets(ordered, {
      graceMs,
      onKill: (t) => say(ctx, `${t.label} (pid ${t.pid}) still running after ${graceMs / 1000}s: SIGKILL`),
    });
    if (left.length > 0) {
      ctx.stderr.write(`maestro down: still running: ${left.map((p) => `${p.label} (pid ${p.pid})`).join(', ')}; state kept in ${stateFileOf(stateDir)}\n`);
      return ExitCodes.failed;
    }
    removeClusterState(stateDir);
    removeApiKeyFile(stateDir);
    const listed = state.processes.length + (state.supervisor ? 1 : 0);
    say(ctx, `stopped ${ordered.length} process${ordered.length === 1 ? '' : 'es'} of the cluster at ${state.gatewayUrl}${ordered.length < listed ? ` (${listed - ordered.length} had already exited)` : ''}`);
    return ExitCodes.ok;
  });
}
