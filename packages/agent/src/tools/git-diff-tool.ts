/**
 * `git.diff`: the changes in the workspace as a unified diff.
 */
import { z } from 'zod';
import { defineTool } from '../tool-registry.js';
import { resolveWorkspacePath } from '../workspace-path.js';
import { gitFailure, runGit } from './git-command.js';

/** Characters of diff shown; the start is kept, and the file list tells what was cut. */
const MAX_DIFF_CHARS = 30_000;

/**
 * Shows `git diff` of the workspace (changes not yet staged) or, with `staged`, of the index
 * (what `git.commit` with the same paths would commit), optionally limited to `paths`. Paths
 * are confined to the workspace and shown relative to it (`--relative`). A long diff keeps its
 * start and ends with the `--stat` list of every changed file, so the model can ask for the
 * rest path by path. Untracked files are not in a diff; the empty answer says so.
 */
export const gitDiffTool = defineTool({
  name: 'git.diff',
  description:
    'Show the changes in the workspace as a unified diff: by default the changes not yet staged; with staged: true, the staged changes. ' +
    'Optionally limit it to some paths. Untracked (new) files do not appear; see git.status.',
  risk: 'read',
  input: z
    .object({
      paths: z.array(z.string().min(1)).min(1).optional().describe('files or directories to diff, relative to the workspace root'),
      staged: z.boolean().default(false).describe('diff the staged changes (the index against HEAD) instead of the unstaged ones'),
    })
    .strict(),
  async run({ paths, staged }, context) {
    const root = resolveWorkspacePath(context.workspace, '.').root;
    const relPaths = (paths ?? ['.']).map((p) => resolveWorkspacePath(root, p).relative);
    const base = ['--no-optional-locks', 'diff', '--no-color', '--no-ext-diff', '--relative', ...(staged ? ['--cached'] : [])];
    const diff = await runGit([...base, '--', ...relPaths], root, context, { maxOutputChars: 4_000_000 });
    if (diff.exitCode !== 0) {
      if (/not a git repository/i.test(diff.output)) return { ok: false, output: `the workspace is not a git repository: ${diff.output.trim()}` };
      return { ok: false, output: gitFailure('git diff', diff) };
    }
    const where = paths === undefined ? '' : ` in ${relPaths.join(', ')}`;
    if (diff.output.trim() === '') {
      return {
        ok: true,
        output: staged
          ? `no staged changes${where}`
          : `no unstaged changes${where} (staged changes: use staged: true; untracked files never appear in a diff, see git.status)`,
      };
    }
    if (diff.output.length <= MAX_DIFF_CHARS && diff.truncated === 0) return { ok: true, output: diff.output };
    const stat = await runGit([...base, '--stat=200', '--stat-graph-width=20', '--', ...relPaths], root, context);
    const total = diff.output.length + diff.truncated;
    const cut = diff.output.slice(0, MAX_DIFF_CHARS);
    const start = cut.slice(0, cut.lastIndexOf('\n') + 1) || cut;
    return {
      ok: true,
      output:
        `${start}[... diff cut: showing ${start.length} of ${total} characters. Every changed file:\n${stat.output.trimEnd()}\n` +
        'Ask for fewer paths to see the rest.]',
    };
  },
});
