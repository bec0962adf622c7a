/**
 * `git.commit`: commit the agent's changes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
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
 * The agent's changed files, split as git needs them: `add` holds those on disk or in the index
 * (a path that is neither makes `git add` fail); `commit` also holds deletions already staged,
 * which only HEAD still knows.
 */
async function committablePaths(
  root: string,
  changed: readonly string[],
  context: Pick<ToolContext, 'signal' | 'env'>,
): Promise<{ add: string[]; commit: string[] }> {
  const confined = changed.map((p) => resolveWorkspacePath(root, p, { write: true }).relative);
  if (confined.length === 0) return { add: [], commit: [] };
  const names = (l: { exitCode: number | null; output: string }): string[] =>
    l.exitCode === 0 ? l.output.split('\0').filter((p) => p !== '') : [];
  const [index, head] = await Promise.all([
    runGit(['ls-files', '-z', '--', ...confined], root, context),
    runGit(['ls-tree', '-r', '-z', '--name-only', 'HEAD', '--', ...confined], root, context),
  ]);
  const inIndex = new Set(names(index));
  const inHead = new Set(names(head));
  const add = confined.filter((p) => inIndex.has(p) || existsSync(join(root, p)));
  return { add, commit: confined.filter((p) => add.includes(p) || inHead.has(p)) };
}

/**
 * Stages the given paths (or, inside the agent loop, the files the agent changed) and commits them with `message`, returning the new
 * commit's sha. During a merge (conflicts being resolved) the commit concludes the merge with the whole index. Takes the `git-index:<repo root>` concern through the write guard first. When the
 * commit does not happen (a hook refuses, git fails) the index is put back as it was, so nothing
 * the tool staged stays staged.
 */
export const gitCommitTool = defineTool({
  name: 'git.commit',
  description:
    'Commit changes in the workspace repository. Stages the given paths (when omitted: the files you changed in this task), commits with the message, and returns the commit sha.',
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
    let relPaths = (paths ?? []).map((p) => resolveWorkspacePath(root, p, { write: true }).relative);
    let addPaths = relPaths;
    if (paths === undefined && context.changedFiles !== undefined) {
      const committable = await committablePaths(root, context.changedFiles, context);
      relPaths = committable.commit;
      addPaths = committable.add;
      if (relPaths.length === 0) {
        return {
          ok: false,
          output:
            'nothing to commit: you have not changed any files in this task yet. (Without paths, git.commit commits only the files you changed: other agents may be working in this repository.)',
        };
      }
    }

    await context.writeGuard?.acquire([Concerns.gitIndex(repo)]);

    const snapshot = await snapshotIndex(root, context);
    if (typeof snapshot === 'string') return { ok: false, output: snapshot };
    // Only staged deletions to commit: nothing for `git add` to do (and it would refuse the paths).
    const onlyStagedDeletions = relPaths.length > 0 && addPaths.length === 0;
    const add = onlyStagedDeletions ? undefined : await runGit(['add', '-A', '--', ...(relPaths.length > 0 ? addPaths : ['.'])], root, context);
    if (add !== undefined && add.exitCode !== 0) return { ok: false, output: failure('git add', add) + (await restoreIndex(snapshot)) };
    // In the middle of a merge (resolving conflicts) the commit concludes it: it takes the whole
    // index, since git refuses a partial commit then, and it is worth making even when the
    // resolution equals HEAD.
    const merging = (await runGit(['rev-parse', '-q', '--verify', 'MERGE_HEAD'], root, context)).exitCode === 0;
    const staged = merging ? undefined : await runGit(['diff', '--cached', '--quiet', '--', ...relPaths], root, context);
    if (staged !== undefined && staged.exitCode === 0) {
      return { ok: false, output: `nothing to commit${relPaths.length > 0 ? ` in ${relPaths.join(', ')}` : ''}: no changes since the last commit` };
    }
    const identity = await runGit(['config', '--get', 'user.email'], root, context);
    const headBefore = await runGit(['rev-parse', '--verify', '-q', 'HEAD'], root, context);
    const commitArgs = [
      ...(identity.exitCode === 0 ? [] : FALLBACK_IDENTITY),
      'commit',
      '-m',
      message,
      ...(relPaths.length > 0 && !merging ? ['--', ...relPaths] : []),
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
    const shown = await runGit(['show', '--name-only', '--format=', '--relative', ...(merging ? ['--diff-merges=first-parent'] : []), 'HEAD'], root, context);
    const files = shown.output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return {
      ok: true,
      output: `committed ${sha}: ${message.trim().split('\n')[0]} (${files.length} file${files.length === 1 ? '' : 's'}: ${files.join(', ')})`,
      effects: { commitSha: sha, filesChanged: files },
    };
  },
});
