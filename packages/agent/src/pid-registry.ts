/**
 * The record of the processes we start in a repository, so that a later run can find the ones
 * an earlier run left behind (a dev server, a hung test whose executor crashed) by the process
 * ids WE recorded, never by a process name.
 *
 * **Where.** `<git-common-dir>/maestro/pids/`: the common dir is shared by the repository and
 * all its worktrees, so a command started in a subtask's worktree is found from the repository.
 * One file per process (`<pid>-<startTicks>.json`) rather than one `pids.json`: several
 * executors start commands in worktrees of one repository at once, and one file each needs no
 * lock and cannot lose another's entry. Each file is written to a temporary name and renamed,
 * so a reader never sees half an entry.
 *
 * **Identity.** A process id alone is reused by the kernel. An entry therefore holds the
 * process's start time (field 22 of `/proc/<pid>/stat`, clock ticks since boot), the boot id and
 * the PID namespace: an entry names a live process only when all of them still match. It also
 * names its *owner* (the process that called `runCommand`, by pid and start time): while the
 * owner lives the command is in use, not orphaned.
 *
 * Linux only (`/proc`); elsewhere nothing is recorded.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** One recorded process. */
export interface RecordedProcess {
  /** Format version of the entry. */
  version: 1;
  pid: number;
  /** `/proc/<pid>/stat` field 22: when the process started, in clock ticks since boot. */
  startTicks: number;
  /** `/proc/sys/kernel/random/boot_id` when recorded: start ticks of another boot mean nothing. */
  bootId: string;
  /** `readlink /proc/self/ns/pid` of the recorder, e.g. `pid:[4026531836]`: pids of another namespace mean nothing here. */
  pidNamespace: string;
  /** The command as started. */
  argv: string[];
  /**
   * `/proc/<pid>/cmdline` when the entry was written (the started program had exec'd by then):
   * what the kernel shows for the process, which differs from `argv` for a script run through its
   * `#!` interpreter. Absent in entries written before it was recorded; `argv` is compared then.
   */
  cmdline?: string[];
  cwd: string;
  /** ISO time the process was started. */
  startedAt: string;
  /** The process that started it (and would end it): while it lives, the command is in use. */
  owner: { pid: number; startTicks: number };
}

/** A registry entry as read back, with the file it came from. */
export interface RegistryEntry {
  file: string;
  process: RecordedProcess;
}

/** The directory, under a git common dir, where entries live. */
export function pidRegistryDir(gitCommonDir: string): string {
  return join(gitCommonDir, 'maestro', 'pids');
}

/**
 * The git common dir of the repository `cwd` is in, found on the file system (no `git` process:
 * this runs for every command): the nearest `.git` directory, or, for a worktree, the `.git`
 * file's `gitdir:` and that dir's `commondir`. Undefined when `cwd` is in no repository.
 */
export function findGitCommonDir(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const dotGit = join(dir, '.git');
    let kind: 'dir' | 'file' | undefined;
    try {
      const info = statSync(dotGit);
      kind = info.isDirectory() ? 'dir' : info.isFile() ? 'file' : undefined;
    } catch {
      kind = undefined;
    }
    if (kind === 'dir') return withCommonDir(dotGit);
    if (kind === 'file') {
      const match = /^gitdir:\s*(.+?)\s*$/m.exec(readText(dotGit) ?? '');
      if (!match?.[1]) return undefined;
      return withCommonDir(isAbsolute(match[1]) ? match[1] : resolve(dir, match[1]));
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** A git dir's common dir: where its `commondir` file points, or itself. */
function withCommonDir(gitDir: string): string {
  const common = readText(join(gitDir, 'commondir'))?.trim();
  if (common === undefined || common === '') return gitDir;
  return isAbsolute(common) ? common : resolve(gitDir, common);
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * When process `pid` started (field 22 of `/proc/<pid>/stat`, clock ticks since boot), or
 * undefined when there is no such process (or no `/proc`). The command name in field 2 may hold
 * spaces and parentheses, so fields are counted from the last `)`.
 */
export function processStartTicks(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name come field 3 (state) onwards: field 22 is at index 22 - 3.
  const ticks = Number(fields[19]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

/** The state letter of `/proc/<pid>/stat` (`Z` for a zombie), or undefined without such a process. */
export function processState(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

/** The command line of process `pid` as `/proc/<pid>/cmdline` shows it, or undefined without such a process. */
export function processCmdline(pid: number): string[] | undefined {
  const raw = readText(`/proc/${pid}/cmdline`);
  if (raw === undefined || raw === '') return undefined;
  // Arguments are NUL-terminated; a process that rewrote its title may leave no NUL at all.
  return (raw.endsWith('\0') ? raw.slice(0, -1) : raw).split('\0');
}

/** This boot's id, or undefined without `/proc`. */
export function currentBootId(): string | undefined {
  return readText('/proc/sys/kernel/random/boot_id')?.trim() || undefined;
}

/** This process's PID namespace (`pid:[…]`), or undefined without `/proc`. */
export function currentPidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/**
 * True when `recorded` (a pid and start time from this boot and namespace) is still the same
 * live process: the pid exists, is not a zombie, and started at the recorded tick.
 */
export function isSameLiveProcess(recorded: { pid: number; startTicks: number }): boolean {
  const ticks = processStartTicks(recorded.pid);
  return ticks !== undefined && ticks === recorded.startTicks && processState(recorded.pid) !== 'Z';
}

/**
 * Records a process just started by `runCommand` in `cwd`'s repository; returns a function that
 * removes the entry (call it when the process ended), or undefined when nothing was recorded
 * (no repository, no `/proc`, or the registry could not be written: recording is best-effort and
 * never stops a command). Synchronous on purpose: the entry must exist before the process can be
 * seen to exit, and it is one small file.
 */
export function recordStartedProcess(pid: number, argv: readonly string[], cwd: string, now: Date = new Date()): (() => void) | undefined {
  try {
    const commonDir = findGitCommonDir(cwd);
    const startTicks = processStartTicks(pid);
    const ownerTicks = processStartTicks(process.pid);
    const bootId = currentBootId();
    const pidNamespace = currentPidNamespace();
    if (commonDir === undefined || startTicks === undefined || ownerTicks === undefined || bootId === undefined || pidNamespace === undefined) {
      return undefined;
    }
    const entry: RecordedProcess = {
      version: 1,
      pid,
      startTicks,
      bootId,
      pidNamespace,
      argv: [...argv],
      ...(cmdlineOf(pid) ?? {}),
      cwd,
      startedAt: now.toISOString(),
      owner: { pid: process.pid, startTicks: ownerTicks },
    };
    const dir = pidRegistryDir(commonDir);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${pid}-${startTicks}.json`);
    const temporary = join(dir, `.${pid}-${startTicks}.${randomBytes(4).toString('hex')}.tmp`);
    writeFileSync(temporary, `${JSON.stringify(entry)}\n`);
    renameSync(temporary, file);
    return () => {
      try {
        unlinkSync(file);
      } catch {
        // Already removed (preflight dropped it, or the repository went away).
      }
    };
  } catch {
    return undefined;
  }
}

/** `{ cmdline }` of a process just started, when /proc shows it. */
function cmdlineOf(pid: number): { cmdline: string[] } | undefined {
  const cmdline = processCmdline(pid);
  return cmdline === undefined ? undefined : { cmdline };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isRecordedProcess(value: unknown): value is RecordedProcess {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const owner = v.owner as Record<string, unknown> | undefined;
  return (
    v.version === 1 &&
    Number.isSafeInteger(v.pid) &&
    (v.pid as number) > 1 &&
    Number.isSafeInteger(v.startTicks) &&
    typeof v.bootId === 'string' &&
    typeof v.pidNamespace === 'string' &&
    isStringArray(v.argv) &&
    v.argv.length > 0 &&
    (v.cmdline === undefined || (isStringArray(v.cmdline) && v.cmdline.length > 0)) &&
    typeof v.cwd === 'string' &&
    typeof v.startedAt === 'string' &&
    typeof owner === 'object' &&
    owner !== null &&
    Number.isSafeInteger(owner.pid) &&
    Number.isSafeInteger(owner.startTicks)
  );
}

/**
 * The entries of a repository's registry (`gitCommonDir`), plus the files that are not entries
 * (unreadable, another format) so the caller can report or drop them; writers' temporary files
 * (`.…tmp`) are skipped. An absent registry is empty.
 */
export function readPidRegistry(gitCommonDir: string): { entries: RegistryEntry[]; unreadable: string[] } {
  const dir = pidRegistryDir(gitCommonDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { entries: [], unreadable: [] };
  }
  const entries: RegistryEntry[] = [];
  const unreadable: string[] = [];
  for (const name of names.sort()) {
    // A writer's temporary file (renamed into place in a moment, or left by a crash): not an entry.
    if (name.startsWith('.')) continue;
    const file = join(dir, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      unreadable.push(file);
      continue;
    }
    if (isRecordedProcess(parsed)) entries.push({ file, process: parsed });
    else unreadable.push(file);
  }
  return { entries, unreadable };
}

/** Removes one registry file (an entry or an unreadable file); a file already gone is fine. */
export function removeRegistryFile(file: string): void {
  rmSync(file, { force: true });
}
