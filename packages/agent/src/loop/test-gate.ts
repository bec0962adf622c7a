/**
 * The test gate: when the model says it is done, the repository's tests decide. A clean pass
 * succeeds; so does a failure only in baseline tests (every failure named, all in the baseline,
 * the baseline's exit code when known). Anything else goes back to the model with the output's
 * tail, the failing tests' names, and why the baseline did not excuse it; those names and the
 * failure messages become pinned facts. The first failure fed back is kept on the run: a run that
 * still ends on a passing run reports it as `recoveredFrom`.
 */
import { ReplyFormats } from '../edits/reply-edits.js';
import { hasNamedFencedBlock } from '../edits/whole-file-parser.js';
import { runCommand, type CommandResult } from '../run-command.js';
import { failingTestNames } from '../test-failures.js';
import type { LoopEnd, LoopRun } from './loop-run.js';
import { tail, truncate } from './step-text.js';

/** Characters of test output kept as evidence and fed back to the model. */
export const TEST_OUTPUT_TAIL = 4_000;
/**
 * Characters of test output read when there is a baseline to compare with: the failing tests
 * are named all over the output, and a cut-off output cannot prove that only baseline tests failed.
 */
const TEST_OUTPUT_FOR_BASELINE = 1_000_000;
/** Failure messages pinned from one run at most, and the characters of each. */
const FAILURE_MESSAGES_MAX = 5;
const FAILURE_MESSAGE_CHARS = 200;
/** Failing test names listed in the feedback (and pinned) at most. */
const FAILING_NAMES_MAX = 20;

/** What the test gate made of a failed run, given the baseline. */
type BaselineJudgement = { excused: true; names: string[] } | { excused: false; reason: string };

/** The gate's decision: the run ends, or the failure went back to the model (what to pin from it). */
export type TestGateOutcome =
  | { kind: 'end'; end: LoopEnd }
  | {
      kind: 'continue';
      /** The failing tests' names, when the output names them all (`failingTestNames`). */
      failingTests: string[];
      /** Failure messages in the output's tail (`AssertionError: …`, TAP `error:` lines). */
      failureMessages: string[];
      /** Index in the history of the feedback message that carries them. */
      seenAt: number;
    };

/**
 * Whether a failed run failed only in `baseline` tests: a normal non-zero exit (no timeout,
 * abort, signal or start failure) with the baseline's exit code when that is known, the whole
 * output read, every failure named (`failingTestNames`, names relative to `cwd`) and every name
 * in the baseline. Otherwise why not, for the model and the log.
 */
function judgeAgainstBaseline(run: CommandResult, baseline: ReadonlySet<string>, baselineExitCode: number | undefined, cwd: string): BaselineJudgement {
  if (run.spawnError !== undefined || run.timedOut || run.aborted || run.exitCode === null || run.exitCode === 0) {
    return { excused: false, reason: 'the run did not end with a normal failing exit' };
  }
  if (baselineExitCode !== undefined && run.exitCode !== baselineExitCode) {
    return { excused: false, reason: `it exited with ${run.exitCode}, the baseline run with ${baselineExitCode}` };
  }
  if (run.truncated > 0) return { excused: false, reason: 'the output was too long to read whole' };
  const failing = failingTestNames(run.output, { cwd });
  if (!failing.known) return { excused: false, reason: `the failing tests could not all be named: ${failing.reason}` };
  const fresh = failing.names.filter((name) => !baseline.has(name));
  if (fresh.length > 0) return { excused: false, reason: `tests that did not fail before: ${fresh.join(', ')}` };
  return { excused: true, names: failing.names };
}

/**
 * The failure messages in `output`, verbatim (each a substring of it, cut to 200 characters):
 * `…Error: message` / `…Exception: message` lines (pytest's `E   ` prefix dropped) and the first
 * line of a TAP `error:` field. Best first-seen, at most five, no repeats.
 */
export function failureMessages(output: string): string[] {
  const found: string[] = [];
  const add = (text: string | undefined): void => {
    const message = text?.trim().slice(0, FAILURE_MESSAGE_CHARS).trim();
    if (message !== undefined && message.length >= 8 && !found.includes(message) && found.length < FAILURE_MESSAGES_MAX) found.push(message);
  };
  const lines = output.split('\n');
  for (const [i, line] of lines.entries()) {
    const error = /^\s*(?:E\s+)?((?:[A-Za-z_][\w.]*)?(?:Error|Exception)(?:\s*\[[^\]]*\])?:\s*\S.*)$/.exec(line);
    if (error !== null) {
      add(error[1]);
      continue;
    }
    const tapError = /^\s+error:\s*(.*)$/.exec(line);
    if (tapError === null) continue;
    const value = tapError[1] ?? '';
    if (/^[|>]-?\s*$/.test(value)) add(lines.slice(i + 1).find((next) => next.trim() !== ''));
    else add(value.replace(/^'(.*)'$/, '$1'));
  }
  return found;
}

/**
 * Runs the tests after the model said it was done (its last reply `content`; `knownPaths` the
 * workspace's files as the edit parsers saw them) and decides: the run ends (succeeded, stuck,
 * cancelled, out of time) or the failure goes back as a user message in the history.
 */
export async function runTestGate(run: LoopRun, content: string, knownPaths: readonly string[]): Promise<TestGateOutcome> {
  const { testCommand, workspace, baseline, baselineExitCode, textEditFormats, options } = run.settings;
  if (testCommand.length === 0) return { kind: 'end', end: { status: 'succeeded', summary: run.lastContent || 'done (no test command to run)' } };
  if (run.cancelled()) return { kind: 'end', end: run.cancelledEnd() };
  if (run.outOfTime()) {
    return {
      kind: 'end',
      end: { status: 'budget_exhausted', summary: run.lastContent || 'out of time', reason: `used the whole wall-clock budget of ${run.settings.maxWallMs} ms before the tests could run` },
    };
  }
  const startedAt = run.settings.clock.now();
  const result = await runCommand(testCommand, {
    cwd: workspace,
    worktree: run.settings.worktree,
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    timeoutMs: Math.min(run.settings.testTimeoutMs, run.remainingWall()),
    ...(baseline.size > 0 ? { maxOutputChars: TEST_OUTPUT_FOR_BASELINE } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const output =
    result.spawnError !== undefined
      ? `could not start the test command: ${result.spawnError}`
      : result.stopped !== undefined
        ? `${result.stopped.message} (${result.stopped.code})\n${result.output}`
        : result.output;
  // The observation carries the unsandboxed warning; the output stays as the runner wrote it, for the parsers.
  const observation = result.sandboxNotice !== undefined ? `${result.sandboxNotice}\n${output}` : output;
  const cleanPass = result.exitCode === 0 && !result.timedOut && !result.aborted;
  const judgement = !cleanPass && baseline.size > 0 ? judgeAgainstBaseline(result, baseline, baselineExitCode, workspace) : undefined;
  const exceptBaseline = judgement?.excused === true ? judgement.names : undefined;
  const passed = cleanPass || exceptBaseline !== undefined;
  const baselineNote = exceptBaseline !== undefined ? `passed except baseline failures: ${exceptBaseline.join(', ')}` : undefined;
  const tests = {
    command: testCommand,
    exitCode: result.exitCode,
    passed,
    outputTail: tail(output, TEST_OUTPUT_TAIL),
    ...(exceptBaseline !== undefined ? { exceptBaseline } : {}),
  };
  run.tests = tests;
  await run.report({
    kind: 'tool',
    tool: 'tests',
    summary: truncate(`${testCommand.join(' ')}: ${baselineNote ?? (passed ? 'passed' : result.timedOut ? 'timed out' : result.stopped !== undefined ? 'ended by the sandbox: disk below its floor' : `failed (exit ${result.exitCode ?? result.signal ?? '?'})`)}`),
    ok: passed,
    durationMs: Math.max(0, run.settings.clock.now() - startedAt),
    arguments: JSON.stringify({ argv: testCommand }),
    observation,
  });
  if (baselineNote !== undefined) return { kind: 'end', end: { status: 'succeeded', summary: `${run.lastContent || 'done'} (tests ${baselineNote})` } };
  if (passed) return { kind: 'end', end: { status: 'succeeded', summary: run.lastContent || 'done; tests pass' } };
  const failing = result.spawnError === undefined ? failingTestNames(output, { cwd: workspace }) : undefined;
  const failingTests = failing?.known === true ? failing.names.slice(0, FAILING_NAMES_MAX) : [];
  // The first failure the agent may still recover from (the verdict's `recoveredFrom`).
  run.firstFailure ??= { failingTests, outputTail: tests.outputTail, exitCode: result.exitCode };
  if (run.cancelled()) return { kind: 'end', end: run.cancelledEnd() };
  // Declaring done over and over with the same failure is stuck even with other work between.
  const stuck = run.stuck.declaredDoneFailing(tests.outputTail) ?? run.stuck.remember('declaring done', tests.outputTail);
  if (stuck !== undefined) return { kind: 'end', end: run.stuckEnd(stuck, 'the tests keep failing') };

  run.history.push({
    role: 'user',
    content: [
      `The tests failed: ${JSON.stringify(testCommand)} ${result.timedOut ? 'timed out' : result.stopped !== undefined ? result.stopped.message : `exited with ${result.exitCode ?? result.signal}`}.`,
      ...(judgement?.excused === false ? [`Failures that already happened before your work are excused, but this run's are not: ${judgement.reason}.`] : []),
      ...(failingTests.length > 0 ? [`Failing tests: ${failingTests.join('; ')}`] : []),
      'Output (end):',
      '```',
      tests.outputTail,
      '```',
      'Fix the problem, then reply without tool calls or edits when you are done.',
      // A model that wrote a whole file expecting it applied would otherwise not know why nothing changed.
      ...(!textEditFormats.includes(ReplyFormats.wholeFile) && hasNamedFencedBlock(content, [...knownPaths])
        ? ['Note: code blocks with a file name were not applied; change files with SEARCH/REPLACE blocks, a unified diff, or the tools.']
        : []),
    ].join('\n'),
  });
  return { kind: 'continue', failingTests, failureMessages: failureMessages(tests.outputTail), seenAt: run.history.length - 1 };
}
