/**
 * `git.commit`: commit the agent's changes.
 */
import { z } from 'zod';
import { defineTool } from '../tool-registry.js';
import { Concerns } from '../write-guard.js';
import { resolveWorkspacePath } from '../workspace-path.js';
import { gitFailure as failure, runGit } from './git-command.js';

/** Used only when the repository has no identity configured, so a commit never fails for lack of one. */
const FALLBACK_IDENTITY = ['-c', 'user.name=CodeMaestro Agent', '-c', 'user.email=agent@codemaestro.invalid'];

/**
 * Stages the given paths (or every change) and commits them with `message`, returning the new
 * commit's sha. Takes the `git-index:<repo root>` concern through the write guard first.
 */
export const gitCommitTool = defineTool({
  name: 'git.commit',
  description:
    'Commit changes in the workspace repository. Stages the given paths (or all changes when paths is omitted), commits with the message, and returns the commit sha.',
  risk: 'write',
  input: z
    .object({
      message: z.string().min(1).describe('the commit message'),
      paths: z.array(z.string().min(1)).min(1).optional().describe('paths to commit, relative to the workspace root'),
    })
    .strict(),
  async run({ message, paths }, context) {
    // Blank is not a message; git would refuse it after staging, so say it before touching the index.
    if (message.trim() === '') return { ok: false, output: 'invalid arguments for git.commit: message: must not be blank' };
    const root = resolveWorkspacePath(context.workspace, '.').root;
    const top = await runGit(['rev-parse', '--show-toplevel'], root, context);
    if (top.exitCode !== 0) return { ok: false, output: `the workspace is not a git repository: ${top.output.trim()}` };
    const repo = top.output.trim();
    const relPaths = (paths ?? []).map((p) => resolveWorkspacePath(root, p, { write: true }).relative);

    await context.writeGuard?.acquire([Concerns.gitIndex(repo)]);

    const add = await runGit(['add', '-A', '--', ...(relPaths.length > 0 ? relPaths : ['.'])], root, context);
    if (add.exitCode !== 0) return { ok: false, output: failure('git add', add) };
    const staged = await runGit(['diff', '--cached', '--quiet', '--', ...relPaths], root, context);
    if (staged.exitCode === 0) {
      return { ok: false, output: `nothing to commit${relPaths.length > 0 ? ` in ${relPaths.join(', ')}` : ''}: no changes since the last commit` };
    }
    const identity = await runGit(['config', '--get', 'user.email'], root, context);
    const commitArgs = [
      ...(identity.exitCode === 0 ? [] : FALLBACK_IDENTITY),
      'commit',
      '-m',
      message,
      ...(relPaths.length > 0 ? ['--', ...relPaths] : []),
    ];
    const commit = await runGit(commitArgs, root, context);
    if (commit.exitCode !== 0) return { ok: false, output: failure('git commit', commit) };
    const head = await runGit(['rev-parse', 'HEAD'], root, context);
    const sha = head.output.trim();
    const shown = await runGit(['show', '--name-only', '--format=', '--relative', 'HEAD'], root, context);
    const files = shown.output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return {
      ok: true,
      output: `committed ${sha}: ${message.trim().split('\n')[0]} (${files.length} file${files.length === 1 ? '' : 's'}: ${files.join(', ')})`,
      effects: { commitSha: sha, filesChanged: files },
    };
  },
});
