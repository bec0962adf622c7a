/**
 * Where repositories may live: `MAESTRO_REPO_ROOTS`, a colon-separated list of absolute
 * directories. A repository path is accepted only when its real path (every symlink resolved)
 * is one of the roots or lies below one. The orchestrator checks at SubmitTask; the executor
 * checks again right before it touches the repository, so a symlink swapped in between leads
 * nowhere new.
 *
 * @example
 * const roots = parseRepoRoots('/srv/repos:/home/ci/work'); // real paths, checked at start
 * const found = await resolveRepoInRoots('/srv/repos/calc', roots);
 * if (!found.ok) throw invalidField('repo_path', found.problem, found.code);
 */
import { realpathSync, statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { EnvVar } from './config.js';

/** The stable codes of a repository refused for where it is or how it is configured. */
export const RepoSafetyErrorCodes = {
  /** The repository's real path is outside every `MAESTRO_REPO_ROOTS` directory (or none is configured). */
  REPO_OUTSIDE_ROOTS: 'REPO_OUTSIDE_ROOTS',
  /**
   * The repository's real path is within `MAESTRO_REPO_ROOTS` but outside its task's tenant's
   * `MAESTRO_TENANT_REPO_ROOTS` entry, or that tenant has no entry (see tenant-repo-roots.ts).
   */
  REPO_OUTSIDE_TENANT_ROOTS: 'REPO_OUTSIDE_TENANT_ROOTS',
  /** The repository path does not exist (or names a directory that vanished). */
  REPO_NOT_FOUND: 'REPO_NOT_FOUND',
  /** The repository's git config defines a command git would run on our commands (a filter, merge or diff driver). */
  REPO_UNSAFE_CONFIG: 'REPO_UNSAFE_CONFIG',
} as const;

/** One of {@link RepoSafetyErrorCodes}. */
export type RepoSafetyErrorCode = (typeof RepoSafetyErrorCodes)[keyof typeof RepoSafetyErrorCodes];

/** The environment variable naming the repository roots. */
export const REPO_ROOTS_VARIABLE = 'MAESTRO_REPO_ROOTS';

/**
 * Parses a `MAESTRO_REPO_ROOTS` value: colon-separated absolute paths (empty entries ignored),
 * each resolved to its real path now, at start, so later checks compare real paths with real
 * paths. Throws an Error saying which entry is wrong (the config loader names the variable):
 * relative, holding a NUL character, missing, or not a directory. Duplicates are dropped.
 *
 * @example
 * parseRepoRoots('/tmp:/srv/repos/'); // ['/tmp', '/srv/repos']
 */
export function parseRepoRoots(raw: string): string[] {
  const roots: string[] = [];
  for (const entry of raw.split(':').map((e) => e.trim())) {
    if (entry === '') continue;
    if (entry.includes('\0')) throw new Error('a root holds a NUL character');
    if (!path.isAbsolute(entry)) throw new Error(`every root must be an absolute path, got "${entry}"`);
    let real: string;
    try {
      real = realpathSync.native(entry);
    } catch {
      throw new Error(`the root ${entry} does not exist; create it or remove it from the list`);
    }
    if (!statSync(real).isDirectory()) throw new Error(`the root ${entry} is not a directory`);
    if (!roots.includes(real)) roots.push(real);
  }
  return roots;
}

/**
 * True when `realPath` is one of `roots` or lies below one. Both sides must already be real,
 * absolute paths (see {@link parseRepoRoots}); the comparison is by path components, so
 * `/srv/repos-evil` is not inside `/srv/repos`, and exact (case-sensitive): realpath has
 * already given the directory its one spelling. A path holding NUL or `..` components is never
 * inside (a real path has none; such input was not resolved).
 */
export function isInsideRoots(realPath: string, roots: readonly string[]): boolean {
  if (realPath.includes('\0') || !path.isAbsolute(realPath)) return false;
  if (realPath.split(/[\\/]/).includes('..')) return false;
  const candidate = path.resolve(realPath);
  return roots.some((root) => {
    const relative = path.relative(path.resolve(root), candidate);
    return relative === '' || (!path.isAbsolute(relative) && relative !== '..' && !relative.startsWith(`..${path.sep}`));
  });
}

/** What {@link resolveRepoInRoots} found: the real path, or why the repository is refused. */
export type RepoInRoots =
  | { ok: true; realPath: string }
  | { ok: false; code: RepoSafetyErrorCode; problem: string };

/**
 * Resolves `repoPath` to its real path (symlinks resolved, now) and checks it against `roots`.
 * The problem text is written to follow a field name (`repo_path: <problem>`) and says what to
 * do. With no roots every repository is refused, naming the variable.
 */
export async function resolveRepoInRoots(repoPath: string, roots: readonly string[]): Promise<RepoInRoots> {
  if (repoPath.includes('\0')) return { ok: false, code: RepoSafetyErrorCodes.REPO_NOT_FOUND, problem: 'must not contain NUL characters' };
  if (!path.isAbsolute(repoPath)) return { ok: false, code: RepoSafetyErrorCodes.REPO_NOT_FOUND, problem: `must be an absolute path, got "${repoPath}"` };
  let realPath: string;
  try {
    realPath = await realpath(repoPath);
  } catch {
    return { ok: false, code: RepoSafetyErrorCodes.REPO_NOT_FOUND, problem: `${repoPath} does not exist` };
  }
  if (roots.length === 0) {
    return {
      ok: false,
      code: RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS,
      problem: `${repoPath} is refused: no repository roots are configured; set ${REPO_ROOTS_VARIABLE} to the directories repositories may live in`,
    };
  }
  if (!isInsideRoots(realPath, roots)) {
    const via = realPath === path.resolve(repoPath) ? '' : ` (its real path is ${realPath})`;
    return {
      ok: false,
      code: RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS,
      problem: `${repoPath}${via} is outside the repository roots ${roots.join(':')} (${REPO_ROOTS_VARIABLE}); move the repository under one of them or add its directory to ${REPO_ROOTS_VARIABLE}`,
    };
  }
  return { ok: true, realPath };
}

/**
 * The `MAESTRO_REPO_ROOTS` variable, as the orchestrator and executor configs declare it (each
 * names it, so deploy/check-consistency.mjs sees the declaration). Unset, it is the empty list
 * and every repository is refused (the services warn at start).
 */
export function repoRootsEnv(name: typeof REPO_ROOTS_VARIABLE): EnvVar<readonly string[]> {
  return {
    name,
    doc: 'colon-separated absolute directories repositories must live in (their real path); unset: every repository is refused',
    default: [],
    parse: parseRepoRoots,
  };
}
