/**
 * Reflexes from the agent's own retry: a subtask never escalated whose tests failed inside its
 * attempt, were fixed by the agent itself, and passed at the end (its result is a verified
 * success, merged, with `recoveredFrom`: the first failed run). Own retries are frequent, so the
 * lesson is worded by rule only (never a model call) and filed at a low confidence
 * ({@link OwnRetryDefaults}); memory merges the same lesson learned again and raises its
 * confidence, so a lesson that recurs grows while a one-off decays.
 *
 * The topic is the failure's signature by the escalation path's rule (`topicOf`: the failing
 * tests, else the error line) under an `own retry` prefix: a rule-worded own-retry lesson must
 * not supersede a lesson an escalation taught on the same failure (memory supersedes a different
 * lesson on the same topic), least of all one the agent recalled before it fixed the failure.
 * Pure functions.
 */
import type { LearnRequest } from '@maestro/contracts';
import { SubtaskResultSchema } from '@maestro/contracts';
import type { EscalationRecord } from './escalations.js';
import { formatCommand } from './prompts.js';
import { verifiedResultOf, type ReflexProposal, type TestEvidence } from './reflex-learning.js';
import { EVIDENCE_TAIL_CHARS, tail } from './reflex-request.js';
import { clip, errorLineOf, failingTestsOf, normaliseTopic, RULE_AUTHOR, ReflexLimits, topicOf, type FailureSignature } from './reflex-rule.js';
import type { SubtaskRecord } from './task.js';

/** Defaults of own-retry reflexes. */
export const OwnRetryDefaults = {
  /** Confidence of a new own-retry reflex: below an escalation's (memory's 0.6); each confirmation adds to it. */
  confidence: 0.4,
  /** The fix, as the provenance records it. */
  fix: "the agent's own retry after the tests failed",
  /** Put before the failure's topic, so own-retry lessons meet each other and never an escalation's. */
  topicPrefix: 'own retry',
} as const;

/** The failed run a success recovered from, as the executor reports it (`SubtaskResult.recoveredFrom`). */
const RecoveredFromSchema = SubtaskResultSchema.shape.recoveredFrom.unwrap();
export type RecoveredFrom = (typeof RecoveredFromSchema)['_output'];

/** A verified success after the agent's own retry, with the failure it got past. */
export interface OwnRetry {
  subtaskId: string;
  attempt: number;
  /** The subtask's title and planned files (where the lesson applies). */
  title: string;
  files: string[];
  /** The task branch's commit after the success was merged. */
  mergedSha: string;
  /** The passing test run. */
  tests: TestEvidence;
  /** Files the attempt changed. */
  filesChanged: string[];
  /** The first failed run of the attempt. */
  recoveredFrom: RecoveredFrom;
  /** Its signature: the failing tests or the error line (one of them is known). */
  signature: FailureSignature;
}

/** Why nothing is learned from a success's own retry, or the retry to learn from. */
export type OwnRetryOutcome = { learn: true; retry: OwnRetry } | { learn: false; reason: string };

/**
 * The signature of the failed run: the failing tests read from its tail as the escalation path
 * reads them (so the topics agree), else the names the agent read from the whole output; the
 * error line; the subtask's planned files, else those it changed.
 */
export function ownRetrySignature(recovered: RecoveredFrom, files: readonly string[]): FailureSignature {
  const read = failingTestsOf(recovered.outputTail);
  return {
    kind: 'tests_failed',
    failingTests: read.length > 0 ? read : [...recovered.failingTests],
    errorLine: errorLineOf(recovered.outputTail),
    files: [...files].sort(),
  };
}

/**
 * The own retry a succeeded subtask stands for, if any: its result is a verified success
 * (`verifiedResultOf`) carrying `recoveredFrom`, the subtask was never escalated and replaces no
 * escalated subtask (those are the escalation path's lessons), and the failed run names a failing
 * test or an error line (otherwise there is nothing to learn).
 */
export function findOwnRetry(subtasks: readonly SubtaskRecord[], escalations: readonly EscalationRecord[], subtaskId: string): OwnRetryOutcome {
  const subtask = subtasks.find((s) => s.id === subtaskId);
  if (subtask === undefined) return { learn: false, reason: `subtask ${subtaskId} is not the task's` };
  const result = verifiedResultOf(subtask);
  if (typeof result === 'string') return { learn: false, reason: result };
  if (escalations.some((e) => e.subtaskId === subtaskId)) return { learn: false, reason: `subtask ${subtaskId} was escalated: its lesson is the escalation's` };
  if (subtask.replaces !== null) return { learn: false, reason: `subtask ${subtaskId} replaces ${subtask.replaces}: its lesson is the re-plan's` };
  const recovered = RecoveredFromSchema.safeParse((subtask.result ?? {})['recoveredFrom']);
  if (!recovered.success) return { learn: false, reason: `subtask ${subtaskId} passed its tests without failing first` };
  const files = subtask.files.length > 0 ? subtask.files : result.filesChanged;
  const signature = ownRetrySignature(recovered.data, files);
  if (signature.failingTests.length === 0 && signature.errorLine === undefined) {
    return { learn: false, reason: `subtask ${subtaskId}'s failed run names no failing test and no error: nothing to learn` };
  }
  return {
    learn: true,
    retry: {
      subtaskId,
      attempt: result.attempt,
      title: subtask.title,
      files: [...files],
      mergedSha: result.merged.sha,
      tests: result.tests,
      filesChanged: result.filesChanged,
      recoveredFrom: recovered.data,
      signature,
    },
  };
}

/** The topic of an own-retry lesson: `own retry, ` and the failure's topic (`topicOf`). */
export function ownRetryTopic(signature: FailureSignature): string {
  return normaliseTopic(`${OwnRetryDefaults.topicPrefix}, ${topicOf(signature)}`);
}

/**
 * The rule's lesson: "In <files>: when the tests failed (<tests>) with <error>, the agent fixed
 * it on its own retry, changing <files> (verified: <command> passed)." Worded from the failure
 * alone, so the same failure fixed the same way gives the same lesson (a duplicate memory merges).
 */
export function proposeOwnRetryReflex(retry: OwnRetry): ReflexProposal {
  const { signature } = retry;
  const where = signature.files.length > 0 ? `In ${signature.files.join(', ')}` : `In subtask "${retry.title}"`;
  const tests = signature.failingTests.length > 0 ? ` (${signature.failingTests.map((t) => `"${t}"`).join(', ')})` : '';
  const error = signature.errorLine !== undefined ? ` with ${signature.errorLine}` : '';
  const changed = retry.filesChanged.length > 0 ? `, changing ${[...retry.filesChanged].sort().join(', ')}` : '';
  const verified = retry.tests.command.length > 0 ? ` (verified: \`${formatCommand(retry.tests.command)}\` passed)` : '';
  const lesson = `${where}: when the tests failed${tests}${error}, the agent fixed it on its own retry${changed}${verified}.`;
  return { lesson: clip(lesson, ReflexLimits.lessonMaxChars), topic: ownRetryTopic(signature), author: RULE_AUTHOR };
}

/** The test evidence for people: the passing run (command, exit code, commit) and the failed run's tail. */
export function ownRetryEvidence(retry: OwnRetry): string {
  const after = `${formatCommand(retry.tests.command)}: passed (exit ${retry.tests.exitCode ?? 'none'}) at ${retry.mergedSha} (attempt ${retry.attempt})`;
  const output = retry.recoveredFrom.outputTail.trim();
  const before = `before, in the same attempt: exit ${retry.recoveredFrom.exitCode ?? 'none'}${output !== '' ? `; failing output (end):\n${tail(output, EVIDENCE_TAIL_CHARS)}` : ''}`;
  return `${after}\n${before}`;
}

/**
 * The `Learn` request for an own retry: the rule's lesson at {@link OwnRetryDefaults.confidence},
 * with its provenance (task, subtask, merged commit, test evidence, failing tests, files).
 * Learning it twice for the same task (a redelivered result) is harmless: memory merges the
 * duplicate and never counts the same task twice. Learned in the task's `tenant`.
 */
export function toOwnRetryLearnRequest(project: string, taskId: string, retry: OwnRetry, proposal: ReflexProposal, tenant: string): LearnRequest {
  return {
    tenant,
    project,
    content: proposal.lesson,
    topic: ownRetryTopic(retry.signature),
    provenance: {
      taskId,
      subtaskId: retry.subtaskId,
      commitSha: retry.mergedSha,
      testEvidence: ownRetryEvidence(retry),
      failingTests: retry.signature.failingTests,
      failureKind: retry.signature.kind,
      fix: OwnRetryDefaults.fix,
      files: retry.filesChanged,
      confirmedBy: [],
    },
    confidence: OwnRetryDefaults.confidence,
    author: proposal.author,
    tags: ['reflex', retry.signature.kind, 'own_retry'],
  };
}
