/**
 * The small repository most executor tests work in: `math.js` with `add`, and `math.test.js`
 * (run by `node --test`) whose `subtract` test fails until an agent writes `subtract`; and the
 * work item that asks for it.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SubtaskWork } from '@maestro/contracts';

/** The repository roots (`MAESTRO_REPO_ROOTS`) of executors in tests: their repositories are made under the temp directory. */
export const TEST_REPO_ROOTS: readonly string[] = [realpathSync(tmpdir())];

/** Runs git in `repo`; its trimmed output. */
export function git(repo: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
}

/** A fresh repository (one commit) in a temp directory named after `prefix`. */
export function makeMathRepo(prefix: string): string {
  const repo = mkdtempSync(join(tmpdir(), prefix));
  git(repo, 'init', '-q');
  git(repo, 'config', 'user.email', 'test@example.invalid');
  git(repo, 'config', 'user.name', 'Executor Test');
  writeFileSync(join(repo, 'math.js'), 'exports.add = (a, b) => a + b;\n');
  // The repository's own tests, run by `node --test` (it finds `*.test.js`).
  writeFileSync(
    join(repo, 'math.test.js'),
    [
      "const test = require('node:test');",
      "const assert = require('node:assert');",
      "const m = require('./math.js');",
      "test('add', () => assert.strictEqual(m.add(2, 3), 5));",
      "test('subtract', () => assert.strictEqual(m.subtract(5, 3), 2));",
      '',
    ].join('\n'),
  );
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  return repo;
}

/** The work item "add subtract()" in `repo` (a fresh subtask id each time), with `overrides` on top. */
export function subtractWork(repo: string, overrides: Partial<SubtaskWork> = {}): SubtaskWork {
  const subtaskId = `sub-${randomUUID().slice(0, 8)}`;
  return {
    workId: `${subtaskId}:1`,
    taskId: 'task-int',
    runId: 'run-int',
    subtaskId,
    attempt: 1,
    goal: 'Give the calculator subtraction',
    title: 'Add subtract()',
    instructions: 'Export subtract(a, b) from math.js so that math.test.js passes.',
    files: ['math.js'],
    repoPath: repo,
    testCommand: ['node', '--test'],
    project: 'calculator',
    ...overrides,
  };
}
