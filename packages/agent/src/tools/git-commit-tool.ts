/**
 * `git.commit`: commit the agent's changes.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { defineTool, type ToolContext } from '../tool-registry.js';
import { Concerns } from '../write-guard.js';
import { resolveWorkspacePath } from '../workspace-path.js';
import { gitFailure as failure, runGit } from './git-command.js';

/** Used only when the repository has no identity configured, so a commit never fails for lack of one. */
const FALLBACK_IDENTITY = ['-c', 'user.name=CodeMaestro Agent', '-c', 'user.email=agent@codemaestro.invalid'];

/** The index as it was before the tool staged anything, to put back when the commit does not happen. */
interface IndexSnapshot {
  path: string;
  /** The index file's bytes; undefined when the repository had no index yet. */
  bytes: Buffer | undefined;
}

/** Reads the index file (`git rev-parse --git-path index` honours `GIT_INDEX_FILE` and worktrees). */
async function snapshotIndex(root: string, context: Pick<ToolContext, 'signal' | 'env'>): Promise<IndexSnapshot | string> {
  const located = await runGit(['rev-parse', '--git-path', 'index'], root, context);
  if (located.exitCode !== 0) return failure('git rev-parse --git-path index', located);
  const path = resolve(root, located.output.trim());
  try {
    return { path, bytes: await readFile(path) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { path, bytes: undefined };
    return `could not read the git index ${path}: ${(err as Error).message}`;
  }
}

/**
 * Puts the index back as it was, so a failed commit leaves nothing staged that the agent did not
 * stage itself (a later `git.commit` of other paths would otherwise sweep it in). Written to a
 * temporary file and renamed over, as git itself does, so a crash never leaves half an index.
 */
async function restoreIndex(snapshot: IndexSnapshot): Promise<string> {
  try {
    if (snapshot.bytes === undefined) {
      await rm(snapshot.path, { force: true });
    } else {
      const temp = join(dirname(snapshot.path), `maestro-index-${randomBytes(6).toString('hex')}.tmp`);
      await writeFile(temp, snapshot.bytes, { flag: 'wx' });
      await rename(temp, snapshot.path);
    }
    return ' The index was put back as it was before; nothing was left staged.';
  } catch (err) {
    return ` Putting the index back failed too (${(err as Error).message}); check git.status before committing again.`;
  }
}

/**
 * Stages the given paths (or every change) and commits them with `message`, returning the new
 * commit's sha. Takes the `git-index:<repo root>` concern through the write guard first. When the
 * commit does not happen (a hook refuses, git fails) the index is put back as it was, so nothing
 * the tool staged stays staged.
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
    if (message.includes('\0')) return { ok: false, output: 'invalid arguments for git.commit: message: must not contain a NUL byte' };
    const root = resolveWorkspacePath(context.workspace, '.').root;
    const top = await runGit(['rev-parse', '--show-toplevel'], root, context);
    if (top.exitCode !== 0) return { ok: false, output: `the workspace is not a git repository: ${top.output.trim()}` };
    const repo = top.output.trim();
    const relPaths = (paths ?? []).map((p) => resolveWorkspacePath(root, p, { write: true }).relative);

    await context.writeGuard?.acquire([Concerns.gitIndex(repo)]);

    const snapshot = await snapshotIndex(root, context);
    if (typeof snapshot === 'string') return { ok: false, output: snapshot };
    const add = await runGit(['add', '-A', '--', ...(relPaths.length > 0 ? relPaths : ['.'])], root, context);
    if (add.exitCode !== 0) return { ok: false, output: failure('git add', add) + (await restoreIndex(snapshot)) };
    const staged = await runGit(['diff', '--cached', '--quiet', '--', ...relPaths], root, context);
    if (staged.exitCode === 0) {
      return { ok: false, output: `nothing to commit${relPaths.length > 0 ? ` in ${relPaths.join(', ')}` : ''}: no changes since the last commit` };
    }
    const identity = await runGit(['config', '--get', 'user.email'], root, context);
    const headBefore = await runGit(['rev-parse', '--verify', '-q', 'HEAD'], root, context);
    const commitArgs = [
      ...(identity.exitCode === 0 ? [] : FALLBACK_IDENTITY),
      'commit',
      '-m',
      message,
      ...(relPaths.length > 0 ? ['--', ...relPaths] : []),
    ];
    const commit = await runGit(commitArgs, root, context);
    if (commit.exitCode !== 0) {
      // Killed after the commit was written (a timeout, an abort): HEAD moved, and the old index would undo it.
      // Asked without the signal: after an abort the answer is still needed to leave the index right.
      const after = await runGit(['rev-parse', '--verify', '-q', 'HEAD'], root, context.env ? { env: context.env } : {});
      if (after.output.trim() !== headBefore.output.trim()) {
        return { ok: false, output: `${failure('git commit', commit)} HEAD moved to ${after.output.trim()} nevertheless; check git.status and git log.` };
      }
      return { ok: false, output: failure('git commit', commit) + (await restoreIndex(snapshot)) };
    }
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
