/**
 * The port through which domain logic looks at a repository on disk. The domain decides what
 * a valid repository is; the adapter (`FsRepoProbe`) does the file-system and git I/O, so the
 * rules stay testable and the I/O stays in one place.
 */

/** What is at a path. */
export type PathKind = 'missing' | 'file' | 'directory' | 'other';

/** Read-only questions about a repository on disk. */
export interface RepoProbe {
  /** What is at `path` (following symlinks). */
  kind(path: string): Promise<PathKind>;
  /** True when `path` is inside a git work tree (`.git` present or `git rev-parse` agrees). */
  isGitWorkTree(path: string): Promise<boolean>;
  /** The text of a file, or undefined when it does not exist or is not a regular file. */
  readText(path: string): Promise<string | undefined>;
  /** The work tree's files (tracked and untracked-but-not-ignored), relative, `/`-separated. */
  listFiles(repoPath: string): Promise<string[]>;
}
