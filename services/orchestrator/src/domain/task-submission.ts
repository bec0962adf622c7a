/**
 * Validation of SubmitTask: the rules a task must satisfy before anything is stored or started.
 * Every failure is a `UserError` naming the field (`goal: must not be empty`), so the caller
 * gets INVALID_ARGUMENT and knows what to fix. File-system questions go through `RepoProbe`.
 */
import path from 'node:path';
import { CommandPolicyErrorCodes, defaultCommandPolicy, type CommandPolicy } from '@maestro/agent';
import { isMemoryScope, MEMORY_SCOPE_RULE, MemoryScopeLimits, PROJECT_SCOPE, TaskLimits, Tenants, WORKFLOW_NAME_PATTERN } from '@maestro/contracts';
import {
  invalidField,
  isInsideRoots,
  ownerTenant,
  rejectNulCharacters,
  RepoSafetyErrorCodes,
  resolveRepoForTenant,
  tenantRepoRootsOf,
  tenantScope,
  unsafeGitConfigProblem,
  type TenantRepoRoots,
} from '@maestro/runtime';
import type { RepoProbe } from './repo-probe.js';
import type { TaskBudget } from './task.js';
import { detectTestCommand, MakefileNames } from './test-command.js';


/** SubmitTask's fields, as the gRPC request carries them (empty string / list = absent). */
export interface TaskSubmissionInput {
  goal: string;
  repoPath: string;
  testCommand: readonly string[];
  project: string;
  idempotencyKey: string;
  /** Spending limits; absent (or a field 0) takes the configured default. */
  budget?: { usd: number; tokens: number } | undefined;
  /** A workflow definition name; empty lets the goal's intent pick it. */
  workflow: string;
  /**
   * The request's tenant: a tenant name, or empty (absent) for an internal caller, whose task
   * belongs to `default`. Picks the repository roots when `tenantRepoRoots` are configured.
   */
  tenant?: string | undefined;
  /**
   * Whose preferences apply besides the project's: memory scopes `user:<id>` / `team:<id>`.
   * @default [] (the project's memories only)
   */
  memoryScopes?: readonly string[] | undefined;
}

/** Defaults a submission takes from the orchestrator's configuration. */
export interface SubmissionDefaults {
  budget: TaskBudget;
  /**
   * The policy a test command must pass (given or detected): the executor runs it, so one it
   * would refuse is refused here, before anything is stored.
   * @default defaultCommandPolicy
   */
  commandPolicy?: CommandPolicy;
  /**
   * Real paths repositories must live in (`MAESTRO_REPO_ROOTS`); an empty list refuses every
   * repository. The orchestrator always passes it; left out, no roots are checked (unit tests
   * of the other rules). @default no roots check
   */
  repoRoots?: readonly string[];
  /**
   * Each tenant's roots within `repoRoots` (`MAESTRO_TENANT_REPO_ROOTS`): when any are given, a
   * repository must also lie within its task's tenant's roots, and a tenant without an entry is
   * refused (`REPO_OUTSIDE_TENANT_ROOTS`). Only checked along with `repoRoots`.
   * @default [] (every tenant shares `repoRoots`)
   */
  tenantRepoRoots?: readonly TenantRepoRoots[];
}

/** A task that passed validation, normalized and with defaults filled in. */
export interface ValidTaskSubmission {
  /** Trimmed. */
  goal: string;
  /**
   * The repository's real path (symlinks resolved), so two tasks on one repository reached
   * through different links store the same repo_path and share its lock and project.
   */
  repoPath: string;
  /** As given, or detected from the repository. */
  testCommand: string[];
  /** As given (trimmed), or the repository directory's name. */
  project: string;
  idempotencyKey: string | null;
  /** Explicit values, the rest from the defaults. */
  budget: TaskBudget;
  /** The workflow named at submit; undefined when the intent is to pick it. */
  workflow: string | undefined;
  /** Trimmed, each once, in the order given; never `project` (always recalled). */
  memoryScopes: string[];
}

/** Checks the goal: required, not blank, at most `TaskLimits.goalMaxChars` characters. */
export function validateGoal(goal: string): string {
  if (goal === '') throw invalidField('goal', 'is required (say in plain language what the agents should do)');
  const trimmed = goal.trim();
  if (trimmed === '') throw invalidField('goal', 'must not be empty or only whitespace');
  if (trimmed.length > TaskLimits.goalMaxChars) {
    throw invalidField('goal', `is ${trimmed.length} characters; at most ${TaskLimits.goalMaxChars} are allowed`);
  }
  return trimmed;
}

/** Checks the form of repo_path (required, absolute) and returns it normalized. */
export function normalizeRepoPath(repoPath: string): string {
  if (repoPath.trim() === '') throw invalidField('repo_path', 'is required (the absolute path of a git work tree)');
  if (repoPath.length > TaskLimits.repoPathMaxChars) {
    throw invalidField('repo_path', `is ${repoPath.length} characters; at most ${TaskLimits.repoPathMaxChars} are allowed`);
  }
  if (!path.isAbsolute(repoPath)) throw invalidField('repo_path', `must be an absolute path, got "${repoPath}"`);
  const normalized = path.resolve(repoPath);
  return normalized;
}

/**
 * Checks that repo_path exists, is a directory and is the top level of a git work tree. A
 * subdirectory of a repository is refused with the top level to pass instead: executors commit
 * and lock relative to the work tree, and two tasks on two subdirectories of one repository
 * would otherwise share a git index without knowing it. Returns the real path (symlinks
 * resolved), which is what the task stores.
 */
export async function checkRepository(repoPath: string, probe: RepoProbe): Promise<string> {
  const kind = await probe.kind(repoPath);
  if (kind === 'missing') throw invalidField('repo_path', `${repoPath} does not exist`);
  if (kind !== 'directory') throw invalidField('repo_path', `${repoPath} is not a directory`);
  const git = await probe.gitWorkTree(repoPath);
  if (git.kind === 'not-work-tree') {
    throw invalidField('repo_path', `${repoPath} is not a git work tree (git: ${git.detail}); run \`git init\` there first`);
  }
  if (git.topLevel !== git.realPath) {
    throw invalidField(
      'repo_path',
      `${repoPath} is inside the git repository ${git.topLevel}, not its top level; pass ${git.topLevel} instead`,
    );
  }
  return git.realPath;
}

/**
 * Refuses a repository whose real path is outside `roots` (`REPO_OUTSIDE_ROOTS`, naming
 * `repo_path` and the roots) or, with tenant roots configured, outside the roots of `tenant`
 * (`REPO_OUTSIDE_TENANT_ROOTS`; a tenant without an entry is refused) before any git command
 * runs in it, and returns its real path. A path that does not exist is left to
 * {@link checkRepository}, which says so.
 */
export async function checkRepoRoots(
  repoPath: string,
  roots: readonly string[],
  tenant: string = Tenants.default,
  tenantRepoRoots: readonly TenantRepoRoots[] = [],
): Promise<string> {
  const found = await resolveRepoForTenant(repoPath, tenant, { repoRoots: roots, tenantRepoRoots });
  if (found.ok) return found.realPath;
  if (found.code === RepoSafetyErrorCodes.REPO_NOT_FOUND) return repoPath;
  throw invalidField('repo_path', found.problem, found.code);
}

/**
 * Refuses a repository whose git config defines a filter, merge or diff driver
 * (`REPO_UNSAFE_CONFIG`, naming the keys): git would run those commands on the executor's
 * checkout, add and merge, and no override of ours switches them off.
 */
export async function checkRepoConfig(repoPath: string, probe: RepoProbe): Promise<void> {
  const { unsafe } = await probe.commandConfig(repoPath);
  if (unsafe.length > 0) throw invalidField('repo_path', unsafeGitConfigProblem(repoPath, unsafe), RepoSafetyErrorCodes.REPO_UNSAFE_CONFIG);
}

/**
 * Checks a given test command: at most `TaskLimits.testCommandMaxArgs` argv elements, each
 * non-empty and at most `TaskLimits.testCommandArgMaxChars` characters.
 */
export function validateTestCommand(command: readonly string[]): string[] {
  if (command.length > TaskLimits.testCommandMaxArgs) {
    throw invalidField('test_command', `has ${command.length} arguments; at most ${TaskLimits.testCommandMaxArgs} are allowed`);
  }
  command.forEach((arg, i) => {
    if (arg.trim() === '') throw invalidField('test_command', `argument ${i} is empty; pass the command as argv, e.g. ["npm","test"]`);
    if (arg.length > TaskLimits.testCommandArgMaxChars) {
      throw invalidField('test_command', `argument ${i} is ${arg.length} characters; at most ${TaskLimits.testCommandArgMaxChars} are allowed`);
    }
  });
  return [...command];
}

/** Refuses a test command the command policy denies, naming `test_command` and the rule. */
export function checkTestCommandPolicy(command: readonly string[], policy: CommandPolicy = defaultCommandPolicy): void {
  const decision = policy.evaluate(command);
  if (decision.decision === 'allow') return;
  throw invalidField(
    'test_command',
    `is refused by the command policy (${CommandPolicyErrorCodes.COMMAND_DENIED}, rule ${decision.rule}): ${decision.reason}; use the repository's test runner, e.g. ["npm","test"]`,
  );
}

/** Detects the test command from the repository's package.json / Makefile, or fails naming the field. */
export async function detectRepoTestCommand(repoPath: string, probe: RepoProbe): Promise<string[]> {
  const packageJson = await probe.readText(path.join(repoPath, 'package.json'));
  let makefile: string | undefined;
  for (const name of MakefileNames) {
    makefile = await probe.readText(path.join(repoPath, name));
    if (makefile !== undefined) break;
  }
  const detection = detectTestCommand({ packageJson, makefile });
  if (!detection.ok) {
    throw invalidField(
      'test_command',
      `could not detect the repository's test command (${detection.reason}); pass one, e.g. ["npm","test"]`,
    );
  }
  return detection.command;
}

/** Checks the optional project name, defaulting to the repository directory's name. */
export function resolveProject(project: string, repoPath: string): string {
  const trimmed = project.trim();
  if (trimmed.length > TaskLimits.projectMaxChars) {
    throw invalidField('project', `must be at most ${TaskLimits.projectMaxChars} characters`);
  }
  return trimmed === '' ? path.basename(repoPath) : trimmed;
}

/** Workflow definition names, as the workflow-engine accepts them. */
const WORKFLOW_NAME = new RegExp(WORKFLOW_NAME_PATTERN);

/**
 * Checks the budget: each limit a finite, non-negative number (tokens whole); 0 or absent takes
 * the default. Names `budget.usd` / `budget.tokens`.
 */
export function validateBudget(budget: TaskSubmissionInput['budget'], defaults: TaskBudget): TaskBudget {
  if (budget === undefined) return { ...defaults };
  if (!Number.isFinite(budget.usd) || budget.usd < 0) throw invalidField('budget.usd', `must be a non-negative number of US dollars, got ${budget.usd}`);
  if (!Number.isInteger(budget.tokens) || budget.tokens < 0) throw invalidField('budget.tokens', `must be a non-negative whole number of tokens, got ${budget.tokens}`);
  return { usd: budget.usd > 0 ? budget.usd : defaults.usd, tokens: budget.tokens > 0 ? budget.tokens : defaults.tokens };
}

/** Checks the optional workflow name (its existence is the workflow-engine's to check at start). */
export function validateWorkflowName(workflow: string): string | undefined {
  const trimmed = workflow.trim();
  if (trimmed === '') return undefined;
  if (trimmed.length > TaskLimits.workflowMaxChars) throw invalidField('workflow', `must be at most ${TaskLimits.workflowMaxChars} characters`);
  if (!WORKFLOW_NAME.test(trimmed)) {
    throw invalidField('workflow', `must be a workflow definition name (a letter or "_", then letters, digits, "_" or "-"), got "${workflow}"`);
  }
  return trimmed;
}

/** A caller's value in a message, cut so a huge one cannot swell it. */
function quoted(value: string, maxChars = MemoryScopeLimits.maxIdLength + 8): string {
  return JSON.stringify(value.length <= maxChars ? value : `${value.slice(0, maxChars)}…`);
}

/**
 * Checks the memory scopes whose preferences apply to the task: at most
 * `MemoryScopeLimits.maxTaskScopes` (every recall of the task sends them all), each a
 * `user:<id>` or `team:<id>` scope once trimmed (naming `memory_scopes[i]`). `project` is
 * refused rather than dropped: its memories are always recalled, so a caller naming it has
 * misunderstood the field. Duplicates are dropped, keeping the first.
 */
export function validateMemoryScopes(scopes: readonly string[]): string[] {
  if (scopes.length > MemoryScopeLimits.maxTaskScopes) {
    throw invalidField('memory_scopes', `has ${scopes.length} scopes; at most ${MemoryScopeLimits.maxTaskScopes} are allowed`);
  }
  const out: string[] = [];
  scopes.forEach((raw, i) => {
    const scope = raw.trim();
    if (scope === PROJECT_SCOPE) {
      throw invalidField(`memory_scopes[${i}]`, `must not be "${PROJECT_SCOPE}": the project's memories are always recalled; name only "user:<id>" or "team:<id>" scopes`);
    }
    if (!isMemoryScope(scope)) throw invalidField(`memory_scopes[${i}]`, `must be "user:<id>" or "team:<id>" (memory scopes are ${MEMORY_SCOPE_RULE}, and "${PROJECT_SCOPE}" is always recalled); got ${quoted(raw)}`);
    if (!out.includes(scope)) out.push(scope);
  });
  return out;
}

/**
 * Validates a whole submission, field by field in request order, and fills in the defaults.
 * Throws the first problem found as a `UserError` naming its field.
 */
export async function validateTaskSubmission(
  input: TaskSubmissionInput,
  probe: RepoProbe,
  defaults: SubmissionDefaults = { budget: { usd: 0, tokens: 0 } },
): Promise<ValidTaskSubmission> {
  // PostgreSQL refuses NUL in text: one check over every field first, named as in the proto.
  rejectNulCharacters({
    goal: input.goal,
    repo_path: input.repoPath,
    test_command: input.testCommand,
    project: input.project,
    idempotency_key: input.idempotencyKey,
    workflow: input.workflow,
    memory_scopes: input.memoryScopes ?? [],
  });
  const goal = validateGoal(input.goal);
  // Stored as the real path: the same repository through a symlink is the same repo_path, and a
  // later swap of a link on the submitted path does not move the task. The roots come first:
  // no git command runs in a repository outside them.
  // The tenant's roots, when configured, are those of the tenant the task will belong to (an
  // internal caller's task belongs to `default`, so `default` needs an entry).
  const roots = defaults.repoRoots;
  const tenantRepoRoots = defaults.tenantRepoRoots ?? [];
  const tenant = ownerTenant(tenantScope(input.tenant));
  const normalized = normalizeRepoPath(input.repoPath);
  const repoPath = await checkRepository(roots !== undefined ? await checkRepoRoots(normalized, roots, tenant, tenantRepoRoots) : normalized, probe);
  if (roots !== undefined && !isInsideRoots(repoPath, roots)) {
    // The path resolved elsewhere between the two looks: a link was swapped meanwhile.
    throw invalidField('repo_path', `${input.repoPath} changed while it was checked (its real path is now ${repoPath}, outside the repository roots)`, RepoSafetyErrorCodes.REPO_OUTSIDE_ROOTS);
  }
  if (roots !== undefined && tenantRepoRoots.length > 0 && !isInsideRoots(repoPath, tenantRepoRootsOf(tenant, tenantRepoRoots) ?? [])) {
    throw invalidField('repo_path', `${input.repoPath} changed while it was checked and now leads outside the repository roots of tenant ${tenant}`, RepoSafetyErrorCodes.REPO_OUTSIDE_TENANT_ROOTS);
  }
  await checkRepoConfig(repoPath, probe);
  const testCommand =
    input.testCommand.length > 0 ? validateTestCommand(input.testCommand) : await detectRepoTestCommand(repoPath, probe);
  checkTestCommandPolicy(testCommand, defaults.commandPolicy);
  const project = resolveProject(input.project, repoPath);
  const key = input.idempotencyKey.trim();
  if (key.length > TaskLimits.idempotencyKeyMaxChars) {
    throw invalidField('idempotency_key', `must be at most ${TaskLimits.idempotencyKeyMaxChars} characters`);
  }
  const budget = validateBudget(input.budget, defaults.budget);
  const workflow = validateWorkflowName(input.workflow);
  const memoryScopes = validateMemoryScopes(input.memoryScopes ?? []);
  return { goal, repoPath, testCommand, project, idempotencyKey: key === '' ? null : key, budget, workflow, memoryScopes };
}
