/**
 * Validation of SubmitTask: the rules a task must satisfy before anything is stored or started.
 * Every failure is a `UserError` naming the field (`goal: must not be empty`), so the caller
 * gets INVALID_ARGUMENT and knows what to fix. File-system questions go through `RepoProbe`.
 */
import path from 'node:path';
import { invalidField } from '@maestro/runtime';
import type { RepoProbe } from './repo-probe.js';
import { detectTestCommand, MakefileNames } from './test-command.js';

/** Longest goal accepted, in characters; longer goals belong in a file in the repo. */
export const MAX_GOAL_LENGTH = 10_000;
/** Longest project name and idempotency key accepted. */
export const MAX_NAME_LENGTH = 200;

/** SubmitTask's fields, as the gRPC request carries them (empty string / list = absent). */
export interface TaskSubmissionInput {
  goal: string;
  repoPath: string;
  testCommand: readonly string[];
  project: string;
  idempotencyKey: string;
}

/** A task that passed validation, normalized and with defaults filled in. */
export interface ValidTaskSubmission {
  /** Trimmed. */
  goal: string;
  /** Absolute and normalized (no trailing slash, no `.` or `..` segments). */
  repoPath: string;
  /** As given, or detected from the repository. */
  testCommand: string[];
  /** As given (trimmed), or the repository directory's name. */
  project: string;
  idempotencyKey: string | null;
}

/** Checks the goal: required, not blank, at most {@link MAX_GOAL_LENGTH} characters. */
export function validateGoal(goal: string): string {
  if (goal === '') throw invalidField('goal', 'is required (say in plain language what the agents should do)');
  const trimmed = goal.trim();
  if (trimmed === '') throw invalidField('goal', 'must not be empty or only whitespace');
  if (trimmed.length > MAX_GOAL_LENGTH) {
    throw invalidField('goal', `is ${trimmed.length} characters; at most ${MAX_GOAL_LENGTH} are allowed`);
  }
  return trimmed;
}

/** Checks the form of repo_path (required, absolute) and returns it normalized. */
export function normalizeRepoPath(repoPath: string): string {
  if (repoPath.trim() === '') throw invalidField('repo_path', 'is required (the absolute path of a git work tree)');
  if (repoPath.includes('\0')) throw invalidField('repo_path', 'must not contain NUL characters');
  if (!path.isAbsolute(repoPath)) throw invalidField('repo_path', `must be an absolute path, got "${repoPath}"`);
  const normalized = path.resolve(repoPath);
  return normalized;
}

/** Checks that repo_path exists, is a directory and is a git work tree. */
export async function checkRepository(repoPath: string, probe: RepoProbe): Promise<void> {
  const kind = await probe.kind(repoPath);
  if (kind === 'missing') throw invalidField('repo_path', `${repoPath} does not exist`);
  if (kind !== 'directory') throw invalidField('repo_path', `${repoPath} is not a directory`);
  if (!(await probe.isGitWorkTree(repoPath))) {
    throw invalidField('repo_path', `${repoPath} is not a git work tree (run \`git init\` there first)`);
  }
}

/** Checks a given test command: every argv element non-empty, at most 100 of them. */
export function validateTestCommand(command: readonly string[]): string[] {
  if (command.length > 100) throw invalidField('test_command', `has ${command.length} arguments; at most 100 are allowed`);
  command.forEach((arg, i) => {
    if (arg.trim() === '') throw invalidField('test_command', `argument ${i} is empty; pass the command as argv, e.g. ["npm","test"]`);
  });
  return [...command];
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
  if (trimmed.length > MAX_NAME_LENGTH) throw invalidField('project', `must be at most ${MAX_NAME_LENGTH} characters`);
  return trimmed === '' ? path.basename(repoPath) : trimmed;
}

/**
 * Validates a whole submission, field by field in request order, and fills in the defaults.
 * Throws the first problem found as a `UserError` naming its field.
 */
export async function validateTaskSubmission(input: TaskSubmissionInput, probe: RepoProbe): Promise<ValidTaskSubmission> {
  const goal = validateGoal(input.goal);
  const repoPath = normalizeRepoPath(input.repoPath);
  await checkRepository(repoPath, probe);
  const testCommand =
    input.testCommand.length > 0 ? validateTestCommand(input.testCommand) : await detectRepoTestCommand(repoPath, probe);
  const project = resolveProject(input.project, repoPath);
  const key = input.idempotencyKey.trim();
  if (key.length > MAX_NAME_LENGTH) throw invalidField('idempotency_key', `must be at most ${MAX_NAME_LENGTH} characters`);
  return { goal, repoPath, testCommand, project, idempotencyKey: key === '' ? null : key };
}
