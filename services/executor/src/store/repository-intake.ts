/**
 * The executor's own check of a subtask's repository, right before it creates a worktree or
 * branch there: its real path (resolved now, again) must be inside this executor's
 * `MAESTRO_REPO_ROOTS` (and, when `MAESTRO_TENANT_REPO_ROOTS` is set, inside the roots of the
 * work's tenant), and its git config must define no filter, merge or diff driver. The
 * orchestrator checked both at SubmitTask; checking again here means a symlink swapped (or a
 * driver configured) since then leads nowhere. Reading the config runs nothing.
 */
import {
  findUnsafeGitConfig,
  GIT_CONFIG_LIST_ARGS,
  RepoSafetyErrorCodes,
  resolveRepoForTenant,
  unsafeGitConfigProblem,
  type RepoRootsScope,
  type RepoSafetyErrorCode,
} from '@maestro/runtime';
import { runGit } from './git-cli.js';

/** What {@link checkRepositoryIntake} decided. */
export type RepositoryIntake =
  | {
      ok: true;
      /** The repository's real path, as checked: the one to work in. */
      realPath: string;
      /** Command-running keys the repository sets that our git overrides neutralise (for a debug log). */
      overridden: string[];
    }
  | { ok: false; code: RepoSafetyErrorCode | 'GIT_CONFIG_UNREADABLE'; problem: string };

/**
 * Checks `repoPath` against the roots (real paths; empty `repoRoots` refuses everything; with
 * `tenantRepoRoots`, those of `tenant`, a tenant name, whose absence refuses everything) and its
 * git config. The problem reads after `repoPath: `.
 */
export async function checkRepositoryIntake(repoPath: string, tenant: string, scope: RepoRootsScope): Promise<RepositoryIntake> {
  const found = await resolveRepoForTenant(repoPath, tenant, scope);
  if (!found.ok) return { ok: false, code: found.code, problem: found.problem };
  const listed = await runGit(found.realPath, GIT_CONFIG_LIST_ARGS);
  if (listed.code !== 0) {
    return { ok: false, code: 'GIT_CONFIG_UNREADABLE', problem: `git config --list failed in ${found.realPath}: ${listed.stderr.trim()}` };
  }
  const { unsafe, overridden } = findUnsafeGitConfig(listed.stdout);
  if (unsafe.length > 0) return { ok: false, code: RepoSafetyErrorCodes.REPO_UNSAFE_CONFIG, problem: unsafeGitConfigProblem(repoPath, unsafe) };
  return { ok: true, realPath: found.realPath, overridden };
}
