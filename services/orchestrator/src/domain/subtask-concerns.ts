/**
 * A subtask's concerns: the lock-manager names of what it works on, declared by Orion from the
 * plan. Files become `file:<repo>/<path>` (a directory of the repository, or a path written with
 * a trailing `/`, becomes `dir:`); declared resources become `port:<n>`, `resource:<name>` and
 * `dir:<repo>/<path>`. The executor holds them while its agent works, and Orion schedules by them
 * (see `concern-schedule.ts`): two subtasks whose concerns overlap (`concernsOverlap` of
 * `@maestro/contracts`, the lock-manager's rule) never run at the same time.
 */
import path from 'node:path';

/** Most concerns one subtask carries (the `SubtaskWork.concerns` limit). */
export const MAX_SUBTASK_CONCERNS = 100;

/** A concern split into its kind (`file`, `dir`, `port`, `resource`, `git-index` …) and value. */
export interface ParsedConcern {
  kind: string;
  value: string;
}

/** Splits `kind:value`; a string without a kind is taken as a resource name. */
export function parseConcernName(concern: string): ParsedConcern {
  const colon = concern.indexOf(':');
  return colon < 0 ? { kind: 'resource', value: concern } : { kind: concern.slice(0, colon), value: concern.slice(colon + 1) };
}

function repoRoot(repoPath: string): string {
  const normalized = path.posix.normalize(repoPath);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

function inRepo(root: string, relative: string): string {
  return path.posix.join(root, relative.replace(/\/+$/, ''));
}

/**
 * The concerns of one subtask, without duplicates, files first in the plan's order.
 * `isDirectory(relativePath)` says whether the repository has a directory at that path.
 *
 * @example
 * subtaskConcerns('/repo', ['src/a.ts', 'src/gen/'], ['port:3000', 'dir:docs'], () => false)
 * // ['file:/repo/src/a.ts', 'dir:/repo/src/gen', 'port:3000', 'dir:/repo/docs']
 */
export function subtaskConcerns(
  repoPath: string,
  files: readonly string[],
  resources: readonly string[],
  isDirectory: (relativePath: string) => boolean,
): string[] {
  const root = repoRoot(repoPath);
  const out = new Set<string>();
  for (const file of files) {
    const bare = file.replace(/\/+$/, '');
    const kind = file.endsWith('/') || isDirectory(bare) ? 'dir' : 'file';
    out.add(`${kind}:${inRepo(root, bare)}`);
  }
  for (const resource of resources) {
    const { kind, value } = parseConcernName(resource);
    out.add(kind === 'dir' ? `dir:${inRepo(root, value)}` : `${kind}:${value}`);
  }
  return [...out].slice(0, MAX_SUBTASK_CONCERNS);
}
