/**
 * Paths an agent's file tools treat specially: git's own directory, which no tool may write
 * (a hook planted there runs on the next commit, on the executor and on every developer's
 * machine that fetches the branch), and CI configuration, which may be written but is flagged
 * for a person to review (a workflow runs with the repository's secrets).
 */

/** Why a workspace path was refused; stable names programs can branch on. */
export const WorkspacePathErrorCodes = {
  /** Empty, NUL, absolute, `..`, or leading (through a link) outside the workspace. */
  refused: 'PATH_REFUSED',
  /** A write, edit, delete or rename into a `.git` directory (any depth, any spelling, through links). */
  gitDirWrite: 'GIT_DIR_WRITE_REFUSED',
  /** The path changed (a link appeared) between the check and the write. */
  changed: 'PATH_CHANGED',
} as const;
/** One of {@link WorkspacePathErrorCodes}. */
export type WorkspacePathErrorCode = (typeof WorkspacePathErrorCodes)[keyof typeof WorkspacePathErrorCodes];

/**
 * Code points HFS+ ignores in names (git's `is_hfs_dotgit` list): `.g\u200cit` is `.git` there.
 */
const IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * True when a path component names git's directory on some file system: `.git` in any case,
 * with trailing dots or spaces or an NTFS stream suffix (`.git.`, `.git::$INDEX_ALLOCATION`),
 * with HFS-ignorable characters inside, or its NTFS short name `git~1`. The same spellings git
 * itself refuses in trees (`core.protectNTFS`, `core.protectHFS`).
 */
export function isGitDirName(component: string): boolean {
  const name = component.replace(IGNORABLE, '').replace(/:.*$/, '').replace(/[. ]+$/, '').toLowerCase();
  return name === '.git' || name === 'git~1';
}

/** True when any component of a workspace-relative path (either separator) names git's directory. */
export function isInGitDir(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).some(isGitDirName);
}

/** What a flagged observation says, once per tool call. */
export const CI_REVIEW_NOTE = 'this changes CI configuration; a person must review it';

/** Flags a tool call can put on its step; stable names a viewer or policy can branch on. */
export const StepFlags = {
  /** The call changed CI configuration (see {@link isCiConfigPath}). */
  ciConfigChanged: 'ci-config-changed',
} as const;
/** One of {@link StepFlags}. */
export type StepFlag = (typeof StepFlags)[keyof typeof StepFlags];

/**
 * True for a workspace-relative path of CI configuration: `.github/workflows/**`,
 * `.gitlab-ci.yml`, `.circleci/**`, `Jenkinsfile`, `.buildkite/**`, `azure-pipelines.yml`,
 * `.travis.yml`. Matched case-insensitively (a case-insensitive checkout reads `.GitHub/` as
 * `.github/`); the single files at any depth (GitLab includes and Jenkins shared pipelines live
 * in subdirectories too), the directories at the root.
 */
export function isCiConfigPath(relativePath: string): boolean {
  const parts = relativePath.split(/[\\/]/).filter((p) => p !== '' && p !== '.').map((p) => p.toLowerCase());
  const [first, second] = parts;
  if (first === '.github' && second === 'workflows' && parts.length > 2) return true;
  if ((first === '.circleci' || first === '.buildkite') && parts.length > 1) return true;
  const last = parts[parts.length - 1] ?? '';
  return ['.gitlab-ci.yml', '.gitlab-ci.yaml', 'jenkinsfile', 'azure-pipelines.yml', 'azure-pipelines.yaml', '.travis.yml', '.travis.yaml'].includes(last);
}

/** The CI configuration files among `paths` (workspace-relative). */
export function ciConfigPaths(paths: readonly string[]): string[] {
  return paths.filter(isCiConfigPath);
}
