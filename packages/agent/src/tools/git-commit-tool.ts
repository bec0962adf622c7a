/**
 * `git.commit`: commit the agent's changes.
 */
import { z } from 'zod';
import { runCommand, type CommandResult } from '../run-command.js';
import { defineTool, type ToolContext } from '../tool-registry.js';
import { Concerns } from '../write-guard.js';
import { resolveWorkspacePath } from '../workspace-path.js';

/** Git commands are local and quick; a minute means something is wrong (a hook hanging). */
const GIT_TIMEOUT_MS = 60_000;

/** Used only when the repository has no identity configured, so a commit never fails for lack of one. */
const FALLBACK_IDENTITY = ['-c', 'user.name=CodeMaestro Agent', '-c', 'user.email=agent@codemaestro.invalid'];

function git(args: string[], cwd: string, context: ToolContext): Promise<CommandResult> {
  return runCommand(['git', ...args], {
    cwd,
    timeoutMs: GIT_TIMEOUT_MS,
    ...(context.signal ? { signal: context.signal } : {}),
    env: { ...(context.env ?? process.env), GIT_TERMINAL_PROMPT: '0' },
  });
}

function failure(step: string, result: CommandResult): string {
  return `${step} failed (${result.spawnError ?? `exit code ${result.exitCode}`}): ${result.output.trim()}`;
}

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
      message: z.string().trim().min(1).describe('the commit message'),
      paths: z.array(z.string().min(1)).min(1).optional().describe('paths to commit, relative to the workspace root'),
    })
    .strict(),
  async run({ message, paths }, context) {
    const root = resolveWorkspacePath(context.workspace, '.').root;
    const top = await git(['rev-parse', '--show-toplevel'], root, context);
    if (top.exitCode !== 0) return { ok: false, output: `the workspace is not a git repository: ${top.output.trim()}` };
    const repo = top.output.trim();
    const relPaths = (paths ?? []).map((p) => resolveWorkspacePath(root, p, { write: true }).relative);

    await context.writeGuard?.acquire([Concerns.gitIndex(repo)]);

    const add = await git(['add', '-A', '--', ...(relPaths.length > 0 ? relPaths : ['.'])], root, context);
    if (add.exitCode !== 0) return { ok: false, output: failure('git add', add) };
    const staged = await git(['diff', '--cached', '--quiet', '--', ...relPaths], root, context);
    if (staged.exitCode === 0) {
      return { ok: false, output: `nothing to commit${relPaths.length > 0 ? ` in ${relPaths.join(', ')}` : ''}: no changes since the last commit` };
    }
    const identity = await git(['config', '--get', 'user.email'], root, context);
    const commitArgs = [
      ...(identity.exitCode === 0 ? [] : FALLBACK_IDENTITY),
      'commit',
      '-m',
      message,
      ...(relPaths.length > 0 ? ['--', ...relPaths] : []),
    ];
    const commit = await git(commitArgs, root, context);
    if (commit.exitCode !== 0) return { ok: false, output: failure('git commit', commit) };
    const head = await git(['rev-parse', 'HEAD'], root, context);
    const sha = head.output.trim();
    const shown = await git(['show', '--name-only', '--format=', '--relative', 'HEAD'], root, context);
    const files = shown.output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return {
      ok: true,
      output: `committed ${sha}: ${message.split('\n')[0]} (${files.length} file${files.length === 1 ? '' : 's'}: ${files.join(', ')})`,
      effects: { commitSha: sha, filesChanged: files },
    };
  },
});
