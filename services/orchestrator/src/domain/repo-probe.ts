/**
 * The port through which domain logic looks at a repository on disk. The domain decides what
 * a valid repository is; the adapter (`FsRepoProbe`) does the file-system and git I/O, so the
 * rules stay testable and the I/O stays in one place.
 */

/** What is at a path. */
export type PathKind = 'missing' | 'file' | 'directory' | 'other';

/**
 * What git says about a directory: inside a work tree (with the work tree's top level and the
 * directory itself, both as real paths so they compare), or not, with git's own explanation.
 */
export type GitWorkTreeInfo =
  | { kind: 'work-tree'; topLevel: string; realPath: string }
  | { kind: 'not-work-tree'; detail: string };

/**
 * Config keys of a repository that would make git run a command: `unsafe` ones our `-c`
 * overrides cannot neutralise (filter, merge and diff drivers), `overridden` ones they do.
 */
export interface RepoCommandConfig {
  unsafe: string[];
  overridden: string[];
}

/** Read-only questions about a repository on disk. */
export interface RepoProbe {
  /** What is at `path` (following symlinks). */
  kind(path: string): Promise<PathKind>;
  /**
   * Asks git (`rev-parse --is-inside-work-tree`, then `--show-toplevel`) whether `path` is in a
   * work tree. A `.git` entry alone proves nothing: it may be empty or junk.
   */
  gitWorkTree(path: string): Promise<GitWorkTreeInfo>;
  /** The text of a file, or undefined when it does not exist or is not a regular file. */
  readText(path: string): Promise<string | undefined>;
  /**
   * The text of `relative` (a path listed by {@link listFiles}) inside the work tree at
   * `repoPath`, or undefined when it is missing, not a regular file, too big, inside `.git`, or
   * leads out of the work tree (through `..` or a symlink): a repository's files never make us
   * read, and show a model, a file of the host.
   */
  readRepoFile(repoPath: string, relative: string): Promise<string | undefined>;
  /** The work tree's files (tracked and untracked-but-not-ignored), relative, `/`-separated. */
  listFiles(repoPath: string): Promise<string[]>;
  /** Reads the repository's git config (reading runs nothing) for keys that would run commands. */
  commandConfig(repoPath: string): Promise<RepoCommandConfig>;
}
