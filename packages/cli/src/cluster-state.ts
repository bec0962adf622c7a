/**
 * The state file `maestro up` writes (`<state dir>/cluster.json`): which processes it started,
 * their logs, and where the gateway listens. `maestro down` stops exactly those PIDs, the client
 * commands take the gateway URL from it, and `maestro up` refuses to start a second cluster while
 * one from it still runs. A PID counts as ours only while it still runs the recorded script, so a
 * PID the system has since given to another program is never signalled.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliDefaults, type CliEnv } from './cli-env.js';
import { isOrphanedGroup, signalGroup } from './process-group.js';
import type { StopTarget } from './stop-targets.js';

/** One process of a cluster. */
export interface ClusterProcessState {
  label: string;
  pid: number;
  /** The script it runs; see the module doc. */
  entry: string;
  grpcAddr: string;
  /** Its Prometheus `/metrics` port on 127.0.0.1; absent for the supervisor. */
  metricsPort?: number;
  logFile: string;
}

/** The content of the state file. */
export interface ClusterState {
  version: 1;
  /** `foreground`: `maestro up` is still running (its own PID is in `supervisor`). */
  mode: 'foreground' | 'detached';
  startedAt: string;
  gatewayUrl: string;
  viewerUrl: string;
  /** `scripted (<script path>)` or the configured model specs. */
  models: string;
  database: string;
  logDir: string;
  /** The foreground `maestro up` process; absent for a detached cluster. */
  supervisor?: ClusterProcessState;
  processes: ClusterProcessState[];
}

/** The state directory: `MAESTRO_STATE_DIR`, else `.maestro/` under the workspace root. */
export function stateDirOf(env: Pick<CliEnv, 'stateDir'>, root: string): string {
  return env.stateDir ?? join(root, CliDefaults.stateDirName);
}

/** The state file's path in a state directory. */
export function stateFileOf(stateDir: string): string {
  return join(stateDir, 'cluster.json');
}

/** Reads the state file; undefined when there is none. Throws naming the file when it is not a state file. */
export function readClusterState(stateDir: string): ClusterState | undefined {
  const path = stateFileOf(stateDir);
  if (!existsSync(path)) return undefined;
  let state: Partial<ClusterState>;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as Partial<ClusterState>;
  } catch (err) {
    throw new Error(`${path} is not a maestro state file (${err instanceof Error ? err.message : String(err)}); remove it once no cluster runs`);
  }
  if (state.version !== 1 || !Array.isArray(state.processes) || typeof state.gatewayUrl !== 'string') {
    throw new Error(`${path} is not a maestro state file (unknown version or shape); remove it once no cluster runs`);
  }
  return state as ClusterState;
}

/** Writes the state file atomically (a reader never sees half of it). */
export function writeClusterState(stateDir: string, state: ClusterState): void {
  mkdirSync(stateDir, { recursive: true });
  const path = stateFileOf(stateDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Removes the state file. */
export function removeClusterState(stateDir: string): void {
  rmSync(stateFileOf(stateDir), { force: true });
}

/**
 * True while `proc.pid` runs and is still the recorded process: it exists, belongs to us, and
 * (where /proc tells) its command line still names the recorded script.
 */
export function isRunning(proc: Pick<ClusterProcessState, 'pid' | 'entry'>): boolean {
  if (!Number.isInteger(proc.pid) || proc.pid <= 0) return false;
  try {
    process.kill(proc.pid, 0);
  } catch {
    // ESRCH: gone; EPERM: another user's process, so not ours.
    return false;
  }
  const procDir = `/proc/${proc.pid}`;
  if (!existsSync('/proc/self')) return true;
  try {
    // A zombie's command line is empty: it has exited.
    return readFileSync(`${procDir}/cmdline`, 'utf8').split('\0').includes(proc.entry);
  } catch {
    return false;
  }
}

/** Every process of the state (the supervisor first) that still runs. */
export function runningProcesses(state: ClusterState): ClusterProcessState[] {
  return [...(state.supervisor ? [state.supervisor] : []), ...state.processes].filter(isRunning);
}

/**
 * True while the process group a recorded service leads is still ours: the service still runs
 * the recorded script, or it has exited and commands it started (test runners, git) remain in
 * its group (see {@link isOrphanedGroup}).
 */
export function ownsGroup(proc: Pick<ClusterProcessState, 'pid' | 'entry'>): boolean {
  return isRunning(proc) || isOrphanedGroup(proc.pid);
}

/** The stop target of a recorded service: its whole process group, while {@link ownsGroup} says it is ours. */
export function groupTarget(proc: Pick<ClusterProcessState, 'label' | 'pid' | 'entry'>): StopTarget {
  return { label: proc.label, pid: proc.pid, alive: () => ownsGroup(proc), signal: (sig) => void signalGroup(proc.pid, sig) };
}

/** The file holding the operator key of the cluster `maestro up` started (mode 0600). */
export function apiKeyFileOf(stateDir: string): string {
  return join(stateDir, 'api-key');
}

/** Stores the cluster's operator key, readable by its owner only. */
export function writeApiKeyFile(stateDir: string, key: string): void {
  mkdirSync(stateDir, { recursive: true });
  const path = apiKeyFileOf(stateDir);
  writeFileSync(`${path}.tmp`, `${key}\n`, { mode: 0o600 });
  chmodSync(`${path}.tmp`, 0o600);
  renameSync(`${path}.tmp`, path);
}

/** The operator key `maestro up` stored, or undefined when there is none. */
export function readApiKeyFile(stateDir: string): string | undefined {
  const path = apiKeyFileOf(stateDir);
  if (!existsSync(path)) return undefined;
  const key = readFileSync(path, 'utf8').trim();
  return key === '' ? undefined : key;
}

/** Removes the stored key (with the cluster it belonged to). */
export function removeApiKeyFile(stateDir: string): void {
  rmSync(apiKeyFileOf(stateDir), { force: true });
}
