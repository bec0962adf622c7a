/**
 * The memory `Learn` request for a proposed reflex: the lesson, the topic (always the failure's
 * signature, `topicOf`, whatever a stored proposal says), and the provenance of
 * the verified outcome it was learned from (task, subtask, the merged commit, the passing test
 * run and the failure before it, the failing tests, the failure kind, the fix and the files).
 * A pure mapping, so what memory is told is testable.
 */
import type { LearnRequest } from '@maestro/contracts';
import { formatCommand } from './prompts.js';
import { describeFix, type ReflexProposal, type VerifiedFix } from './reflex-learning.js';
import { failureSignatureOf, topicOf } from './reflex-rule.js';

/** Longest tail of the failing output quoted in the test evidence. */
export const EVIDENCE_TAIL_CHARS = 600;

/** The last `max` characters of a text, trimmed (with `…` before them when cut). */
export function tail(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(-max)}`;
}

/**
 * The test evidence of a fix, for people: the passing run after it (command, exit code, the
 * commit) and the failing run before it (its kind and the end of its output).
 */
export function testEvidenceOf(fix: VerifiedFix): string {
  const { packet, result } = fix.escalation.escalation;
  const failingOutput = packet.failingTestOutput.trim() !== '' ? packet.failingTestOutput : (result.tests?.outputTail ?? '');
  const after = `${formatCommand(fix.tests.command)}: passed (exit ${fix.tests.exitCode ?? 'none'}) at ${fix.mergedSha} (attempt ${fix.attempt})`;
  const before = `before: ${packet.reason} on attempt ${fix.escalation.attempt}${failingOutput.trim() !== '' ? `; failing output (end):\n${tail(failingOutput, EVIDENCE_TAIL_CHARS)}` : ''}`;
  return `${after}\n${before}`;
}

/** The `Learn` request for a proposal (confidence 0: memory's default for a new reflex), learned in the task's tenant. */
export function toLearnRequest(project: string, fix: VerifiedFix, proposal: ReflexProposal, tenant: string): LearnRequest {
  const signature = failureSignatureOf(fix);
  return {
    tenant,
    project,
    content: proposal.lesson,
    // Never the proposal's own: merge vs supersede must meet every lesson on one failure.
    topic: topicOf(signature),
    provenance: {
      taskId: fix.escalation.taskId,
      // The subtask that failed (a re-plan's replacements are named in `fix`).
      subtaskId: fix.escalation.subtaskId,
      commitSha: fix.mergedSha,
      testEvidence: testEvidenceOf(fix),
      failingTests: signature.failingTests,
      failureKind: signature.kind,
      fix: describeFix(fix),
      files: fix.filesChanged,
      confirmedBy: [],
    },
    confidence: 0,
    author: proposal.author,
    tags: ['reflex', signature.kind],
  };
}
