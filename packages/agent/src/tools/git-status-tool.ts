/**
 * `git.status`: what changed in the workspace, in words.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { defineTool } from '../tool-registry.js';
import { resolveWorkspacePath } from '../workspace-path.js';
import { gitFailure, runGit } from './git-command.js';

/** Entries listed at most, so a tree full of build output cannot flood the conversation. */
const MAX_ENTRIES = 500;

/** The porcelain status letters (index or worktree column) in words. */
const CHANGE_WORDS: Record<string, string> = {
  M: 'modified',
  T: 'type changed',
  A: 'new file',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
};
/** Both columns together, for unmerged paths (git's own wording). */
const CONFLICT_WORDS: Record<string, string> = {
  DD: 'both deleted',
  AU: 'added by us',
  UD: 'deleted by them',
  UA: 'added by them',
  DU: 'deleted by us',
  AA: 'both added',
  UU: 'both modified',
};

/** `## main...origin/main [ahead 1, behind 2]` → `On branch main (ahead 1, behind 2 of origin/main)`. */
function describeBranch(header: string): string {
  const text = header.replace(/^## /, '');
  const noCommits = /^No commits yet on (.+)$/.exec(text);
  if (noCommits) return `On branch ${noCommits[1]} (no commits yet)`;
  if (text.startsWith('HEAD (no branch)')) return 'HEAD detached (not on a branch)';
  const match = /^(.+?)(?:\.\.\.(\S+))?(?: \[(.+)\])?$/.exec(text);
  if (match === null) return `On ${text}`;
  const [, branch, upstream, tracking] = match;
  if (upstream === undefined) return `On branch ${branch}`;
  return `On branch ${branch}, tracking ${upstream}${tracking !== undefined ? ` (${tracking})` : ' (up to date)'}`;
}

/**
 * Shows the branch and the changes in the workspace grouped the way they matter for a commit:
 * staged, not staged, untracked (every file, not just its directory), and unmerged conflicts.
 * Runs `git --no-optional-locks status --porcelain -z`, so it never takes the index lock another
 * agent may need; paths are relative to the workspace, and only the workspace is shown when it
 * is a directory inside a larger repository.
 */
export const gitStatusTool = defineTool({
  name: 'git.status',
  description:
    'Show the git status of the workspace: the branch, staged changes, changes not staged, untracked files and merge conflicts.',
  risk: 'read',
  input: z.object({}).strict(),
  async run(_args, context) {
    const root = resolveWorkspacePath(context.workspace, '.').root;
    const prefix = await runGit(['rev-parse', '--show-prefix'], root, context);
    if (prefix.exitCode !== 0) return { ok: false, output: `the workspace is not a git repository: ${prefix.output.trim()}` };
    const base = prefix.output.trim();
    const status = await runGit(
      ['--no-optional-locks', 'status', '--porcelain=v1', '-z', '--branch', '--untracked-files=all', '--', '.'],
      root,
      context,
      { maxOutputChars: 4_000_000 },
    );
    if (status.exitCode !== 0) return { ok: false, output: gitFailure('git status', status) };

    // Porcelain paths are relative to the repository root; the model works from the workspace.
    const local = (path: string): string => (base === '' ? path : posix.relative(base, path));
    const fields = status.output.split('\0');
    let branch = '';
    const staged: string[] = [];
    const unstaged: string[] = [];
    const untracked: string[] = [];
    const conflicts: string[] = [];
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] ?? '';
      if (field === '') continue;
      if (field.startsWith('## ')) {
        branch = describeBranch(field);
        continue;
      }
      const xy = field.slice(0, 2);
      const path = local(field.slice(3));
      const x = xy[0] ?? ' ';
      const y = xy[1] ?? ' ';
      // A rename or copy is followed by its source path as the next field.
      const from = x === 'R' || x === 'C' ? local(fields[++i] ?? '') : undefined;
      if (xy === '??') untracked.push(path);
      else if (xy === '!!') continue;
      else if (CONFLICT_WORDS[xy] !== undefined) conflicts.push(`${CONFLICT_WORDS[xy]}: ${path}`);
      else {
        if (x !== ' ' && CHANGE_WORDS[x] !== undefined) staged.push(`${CHANGE_WORDS[x]}: ${from !== undefined ? `${from} -> ${path}` : path}`);
        if (y !== ' ' && CHANGE_WORDS[y] !== undefined) unstaged.push(`${CHANGE_WORDS[y]}: ${path}`);
      }
    }

    const lines: string[] = [branch || 'On an unknown branch'];
    let budget = MAX_ENTRIES;
    let left = 0;
    const section = (title: string, entries: string[]): void => {
      const shown = entries.slice(0, Math.max(0, budget));
      budget -= shown.length;
      left += entries.length - shown.length;
      if (shown.length === 0) return;
      lines.push(`${title}:`, ...shown.map((entry) => `  ${entry}`));
    };
    section('Unmerged (resolve the conflicts, then stage the files)', conflicts);
    section('Staged (will be committed)', staged);
    section('Not staged', unstaged);
    section('Untracked', untracked);
    if (left > 0) lines.push(`[... ${left} more entries not shown]`);
    if (lines.length === 1) lines.push('Nothing to commit: the working tree is clean.');
    return { ok: true, output: lines.join('\n') };
  },
});
