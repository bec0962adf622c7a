/**
 * The files of a workspace (or a directory of it) the way a developer would mean it: what git
 * tracks plus what it would add, and never what `.gitignore` hides.
 */
import { readdir } from 'node:fs/promises';
import { join, posix, sep } from 'node:path';
import { runGit } from './tools/git-command.js';

/** Directories never walked when the workspace is not a git repository. */
const SKIPPED_DIRECTORIES = new Set(['.git', 'node_modules']);

/** Options for {@link listWorkspaceFiles}. */
export interface ListWorkspaceFilesOptions {
  /** Stop after this many files. @default 50000 */
  maxFiles?: number;
  signal?: AbortSignal;
  /** Extra variables for git, on top of the allow-listed environment (see `runCommand`). @default {} */
  env?: Record<string, string | undefined>;
}

/** What {@link listWorkspaceFiles} found. */
export interface WorkspaceFiles {
  /** Workspace-relative paths with `/` separators, sorted. */
  files: string[];
  /** `git`: `git ls-files -co --exclude-standard`; `walk`: the directory tree, without `.git` and `node_modules`. */
  source: 'git' | 'walk';
  /** True when `maxFiles` cut the list. */
  truncated: boolean;
}

/**
 * Lists the files under `dir` (workspace-relative; `.` for all), relative to the workspace root
 * `root` (a real absolute path, already confined by the caller). In a git repository these are
 * the tracked files plus the untracked ones `.gitignore` does not exclude; elsewhere the tree
 * is walked, skipping `.git` and `node_modules` and not following symbolic links. Tracked files
 * deleted from disk may be listed: readers check each file anyway.
 */
export async function listWorkspaceFiles(root: string, dir: string, options: ListWorkspaceFilesOptions = {}): Promise<WorkspaceFiles> {
  const maxFiles = options.maxFiles ?? 50_000;
  const context = { ...(options.signal ? { signal: options.signal } : {}), ...(options.env ? { env: options.env } : {}) };
  // Big enough for the paths of a large repository; a cut list is reported, never silently short.
  const listed = await runGit(['ls-files', '-co', '--exclude-standard', '-z', '--', dir], root, context, { maxOutputChars: 8_000_000 });
  if (listed.exitCode === 0 && listed.truncated === 0) {
    const files = [...new Set(listed.output.split('\0').filter((f) => f !== ''))].sort();
    return { files: files.slice(0, maxFiles), source: 'git', truncated: files.length > maxFiles };
  }

  const files: string[] = [];
  let truncated = false;
  const toRelative = (abs: string): string => abs.slice(root.length + 1).split(sep).join(posix.sep);
  const walk = async (abs: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (files.length >= maxFiles) {
        truncated = true;
        return;
      }
      const child = join(abs, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) await walk(child);
      } else if (entry.isFile()) {
        files.push(toRelative(child));
      }
    }
  };
  await walk(dir === '.' ? root : join(root, dir));
  return { files, source: 'walk', truncated };
}
