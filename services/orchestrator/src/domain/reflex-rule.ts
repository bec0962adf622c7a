/**
 * The reflex a rule proposes from a verified fix, without a model: the lesson worded from the
 * failure kind, the failing tests, the error line, the fix (the hint, the take-over, the re-plan)
 * and the files changed; the topic from the normalised failure signature. That topic
 * ({@link topicOf}) is every reflex's, whoever words the lesson (the model only words it), so
 * lessons on the same failure meet on one topic in memory (where duplicates merge and
 * contradictions supersede). Pure functions.
 */
import { failingTestNames } from '@maestro/agent';
import type { FailureKind } from '@maestro/contracts';
import { formatCommand } from './prompts.js';
import { describeFix, failureKindOf, type ReflexProposal, type VerifiedFix } from './reflex-learning.js';

/** Limits of a reflex's texts. */
export const ReflexLimits = {
  /** Longest lesson (memory takes far more; a lesson is read in every prompt it is recalled into). */
  lessonMaxChars: 1_500,
  /** Longest topic. */
  topicMaxChars: 200,
  /** Longest error line quoted. */
  errorLineMaxChars: 200,
} as const;

/** The author of a rule's proposal. */
export const RULE_AUTHOR = 'rule';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** A text flattened to one line and cut to at most `max` characters (with `…` when cut). */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/**
 * A topic as memory compares it: lower case, whitespace collapsed, at most
 * {@link ReflexLimits.topicMaxChars} characters.
 */
export function normaliseTopic(topic: string): string {
  return clip(topic.toLowerCase(), ReflexLimits.topicMaxChars);
}

/**
 * The failing tests a failed run names, when its output says so unambiguously (see
 * `failingTestNames` in @maestro/agent); empty otherwise.
 */
export function failingTestsOf(output: string): string[] {
  if (output.trim() === '') return [];
  const read = failingTestNames(output);
  return read.known ? read.names : [];
}

/**
 * The line of a test run's output that says what went wrong: the first error, exception or
 * failed assertion that is not a stack frame; undefined when there is none.
 */
export function errorLineOf(output: string): string | undefined {
  const lines = output.replace(ANSI, '').split(/\r?\n/).map((l) => l.trim());
  const line = lines.find(
    (l) => l !== '' && !/^at\s/.test(l) && (/\b[A-Z]\w*(Error|Exception)\b/.test(l) || /\b(error|failed|expected|assert\w*)\b/i.test(l)) && !/^#\s*(fail|pass|tests)\b/i.test(l),
  );
  return line === undefined ? undefined : clip(line, ReflexLimits.errorLineMaxChars);
}

/**
 * An error line with what varies between runs taken out: paths shortened to their file name
 * (worktrees differ per run), numbers (line numbers, durations, addresses) as `#`.
 */
export function normaliseErrorLine(line: string): string {
  return line
    .replace(/(?:[A-Za-z]:)?(?:\/|\\)?(?:[\w.@-]+[/\\])+([\w.@-]+)/g, '$1')
    .replace(/0x[0-9a-f]+/gi, '#')
    .replace(/\d+(?:\.\d+)?/g, '#');
}

/** The failure a fix answers, as its escalation's packet shows it. */
export interface FailureSignature {
  kind: FailureKind;
  failingTests: string[];
  errorLine: string | undefined;
  /** The files the subtask was about (as planned), else those the failed attempt changed. */
  files: string[];
}

/** Reads the failure signature of a fix's escalation. */
export function failureSignatureOf(fix: VerifiedFix): FailureSignature {
  const { packet, result } = fix.escalation.escalation;
  const output = packet.failingTestOutput.trim() !== '' ? packet.failingTestOutput : (result.tests?.outputTail ?? '');
  const files = packet.subtask.files.length > 0 ? packet.subtask.files : packet.filesChanged;
  return { kind: failureKindOf(fix), failingTests: failingTestsOf(output), errorLine: errorLineOf(output), files: [...files].sort() };
}

/**
 * The topic of a failure: its failing tests when known, else its normalised error line, else the
 * failure kind and files. Not the kind when tests or an error are known: the same failing test is
 * the same subject whether the agent ended stuck or declared done.
 */
export function topicOf(signature: FailureSignature): string {
  if (signature.failingTests.length > 0) return normaliseTopic(`failing tests: ${[...signature.failingTests].sort().join(' | ')}`);
  if (signature.errorLine !== undefined) return normaliseTopic(`error: ${normaliseErrorLine(signature.errorLine)}`);
  return normaliseTopic(`${signature.kind}: ${signature.files.join(', ') || '(no files)'}`);
}

function symptomOf(signature: FailureSignature, failureReason: string | undefined): string {
  const tests = signature.failingTests.length > 0 ? ` (${signature.failingTests.map((t) => `"${t}"`).join(', ')})` : '';
  const error = signature.errorLine !== undefined ? ` with ${signature.errorLine}` : '';
  switch (signature.kind) {
    case 'tests_failed':
      return `the tests failed${tests}${error}`;
    case 'stuck':
      return `an agent got stuck repeating itself${tests || error ? `, the tests failing${tests}${error}` : ''}`;
    case 'budget_exhausted':
      return `an agent ran out of budget before finishing${tests || error ? `, the tests failing${tests}${error}` : ''}`;
    case 'unparseable':
      return "an agent's edits or tool calls could not be read";
    case 'failed':
      return `an agent's attempt failed${failureReason ? ` (${clip(failureReason, 200)})` : ''}`;
  }
}

function remedyOf(fix: VerifiedFix): string {
  const d = fix.decision;
  switch (d.kind) {
    case 'hint':
      return `what made them pass: ${d.hint ?? d.reason}`;
    case 'takeover':
      return `it was fixed only when the strategic model took the subtask over (${d.reason})${d.hint ? `; its notes: ${d.hint}` : ''}`;
    case 'replan':
      return `it succeeded once split into smaller subtasks${fix.replacementTitles ? `: ${fix.replacementTitles.join('; ')}` : ''} (${d.reason})`;
    default:
      return describeFix(fix);
  }
}

/**
 * The rule's reflex for a verified fix: "In <files>: when <symptom>, <remedy> (verified: <command>
 * passed)." The topic is {@link topicOf} the failure.
 */
export function proposeReflexByRule(fix: VerifiedFix): ReflexProposal {
  const signature = failureSignatureOf(fix);
  const where = signature.files.length > 0 ? `In ${signature.files.join(', ')}` : `In subtask "${fix.escalation.escalation.packet.subtask.title}"`;
  const verified = fix.tests.command.length > 0 ? ` (verified: \`${formatCommand(fix.tests.command)}\` passed)` : '';
  const lesson = `${where}: when ${symptomOf(signature, fix.escalation.escalation.result.failureReason)}, ${remedyOf(fix)}${verified}.`;
  return { lesson: clip(lesson, ReflexLimits.lessonMaxChars), topic: topicOf(signature), author: RULE_AUTHOR };
}
