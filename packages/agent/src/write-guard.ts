/**
 * The hook write tools call before changing anything, so the executor can take locks there.
 */

/**
 * Called by write tools BEFORE they change anything, with the concerns they touch
 * (`file:<abs path>`, `git-index:<abs repo path>`). The executor acquires locks here; a
 * rejection stops the write and comes back to the model as a failed observation.
 */
export interface WriteGuard {
  acquire(concerns: string[]): Promise<void>;
}

/** Concern names, built in one place so tools and lock holders agree on the spelling. */
export const Concerns = {
  /** A file, by its real absolute path. */
  file: (absolutePath: string) => `file:${absolutePath}`,
  /** A repository's git index, by the repository's real absolute root. */
  gitIndex: (repoRoot: string) => `git-index:${repoRoot}`,
} as const;
