/**
 * Lock concerns name the task's repository, never a worktree: an agent writing
 * `<worktree>/src/a.ts` locks `file:<repo>/src/a.ts`, so sibling subtasks in other worktrees of
 * the same repository conflict exactly where they would if they shared one checkout, and the
 * concerns Orion declares from the plan (`file:<repo>/…`) match what the tools ask for.
 */

/** The two roots a worktree concern is translated between (both real absolute paths). */
export interface ConcernRoots {
  /** The worktree's top directory, as the agent's tools see it. */
  worktreeRoot: string;
  /** The repository's top directory (`git rev-parse --show-toplevel` of `repoPath`). */
  repoRoot: string;
}

const PATH_KINDS = ['file', 'dir'] as const;

/** `path` relative to `root` when it is `root` itself or inside it ('' for the root), else undefined. */
function inside(path: string, root: string): string | undefined {
  if (path === root) return '';
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
}

/**
 * The repository concern for a concern a tool asked for in a worktree, or undefined when it
 * needs no lock at all:
 * - `file:`/`dir:` inside the worktree are renamed onto the repository root;
 * - `git-index:<worktree>` is dropped: a worktree has an index of its own that no other agent
 *   uses; the repository's `git-index:` concern is taken by the merge queue when the subtask's
 *   commit enters the task branch;
 * - anything else (`port:`, `resource:`, paths outside the worktree) is kept as it is.
 *
 * @example
 * toRepositoryConcern('file:/tmp/wt/src/a.ts', { worktreeRoot: '/tmp/wt', repoRoot: '/repo' }); // 'file:/repo/src/a.ts'
 */
export function toRepositoryConcern(concern: string, roots: ConcernRoots): string | undefined {
  const colon = concern.indexOf(':');
  if (colon < 0) return concern;
  const kind = concern.slice(0, colon);
  const value = concern.slice(colon + 1);
  const relative = inside(value, roots.worktreeRoot);
  if (relative === undefined) return concern;
  if (kind === 'git-index') return undefined;
  if ((PATH_KINDS as readonly string[]).includes(kind)) return `${kind}:${relative === '' ? roots.repoRoot : `${roots.repoRoot}/${relative}`}`;
  return concern;
}

/** {@link toRepositoryConcern} over a list: the concerns to lock, without duplicates, in order. */
export function toRepositoryConcerns(concerns: readonly string[], roots: ConcernRoots): string[] {
  const out: string[] = [];
  for (const concern of concerns) {
    const mapped = toRepositoryConcern(concern, roots);
    if (mapped !== undefined && !out.includes(mapped)) out.push(mapped);
  }
  return out;
}
