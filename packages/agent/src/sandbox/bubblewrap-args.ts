/**
 * The bwrap command line for one command, built from a plan: pure, so what the sandbox shows
 * and hides is tested by reading the arguments as well as by running them.
 *
 * Order matters to bwrap (mounts apply in order): the system's read-only view, `/proc`, `/dev`
 * and a fresh `/tmp`, the repository's read-only paths, then the worktree read-write, then the
 * worktree's `.git` read-only again over it.
 */
import type { SystemMount } from './system-mounts.js';

/** Where inside the sandbox each command group's `cgroup.procs` file is bound. */
export const SANDBOX_CGROUP_DIR = '/.maestro-cgroup';
/** The private home directory (on the sandbox's own `/tmp`). */
export const SANDBOX_HOME = '/tmp/home';

/** Everything one bwrap command line is made from. */
export interface BubblewrapPlan {
  bwrapPath: string;
  prlimitPath: string;
  /** Keep the host's network namespace. */
  network: boolean;
  system: readonly SystemMount[];
  /** Host paths bound read-only at the same place (repository git dir, linked dependencies, operator paths). */
  readOnly: readonly string[];
  /** The worktree, bound read-write at the same place. */
  worktree: string;
  /** Paths inside the worktree bound read-only over it. */
  protectedInside: readonly string[];
  cwd: string;
  /** Host `cgroup.procs` files the command joins from inside, by controller name. */
  cgroupProcs: Readonly<Record<string, string>>;
  /** `prlimit` options (`--cpu=600` …). */
  rlimits: readonly string[];
  argv: readonly string[];
}

/** The argv that runs `plan.argv` inside bwrap. */
export function bubblewrapArgs(plan: BubblewrapPlan): string[] {
  const args = [plan.bwrapPath, '--unshare-all'];
  if (plan.network) args.push('--share-net');
  // As root bwrap keeps every capability unless told; --new-session stops TIOCSTI into our terminal.
  args.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL');
  for (const mount of plan.system) {
    if (mount.kind === 'symlink') args.push('--symlink', mount.target, mount.path);
    else args.push('--ro-bind-try', mount.path, mount.path);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--dir', SANDBOX_HOME);
  for (const path of plan.readOnly) args.push('--ro-bind-try', path, path);
  args.push('--bind', plan.worktree, plan.worktree);
  for (const path of plan.protectedInside) args.push('--ro-bind-try', path, path);
  const joins = Object.entries(plan.cgroupProcs);
  for (const [controller, file] of joins) args.push('--bind', file, `${SANDBOX_CGROUP_DIR}/${controller}`);
  args.push('--chdir', plan.cwd, '--');
  const limited = [plan.prlimitPath, ...plan.rlimits, '--', ...plan.argv];
  if (joins.length === 0) return [...args, ...limited];
  // Join the groups from inside, before anything forks; the argv stays positional ("$@"), never interpreted.
  const script = [...joins.map(([controller]) => `echo $$ > ${SANDBOX_CGROUP_DIR}/${controller}`), 'exec "$@"'].join(' && ');
  return [...args, '/bin/sh', '-c', script, 'maestro-sandbox', ...limited];
}
