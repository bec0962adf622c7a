/**
 * Which verified outcomes Orion learns a reflex from, and the bookkeeping that learns each one
 * once. Pure data and functions; `app/learn-reflex.ts` does the I/O.
 *
 * **Verified.** A reflex is learned only when a subtask that failed and was escalated later
 * succeeded: the successful attempt's result is `ok`, its commit was merged into the task branch
 * (`merged.sha`) and the repository's test command passed (`tests.passed`). The lesson comes from
 * the escalation's failure packet and the decision that fixed it (a `hint`, a `takeover`, or a
 * `replan` whose replacement subtasks all succeeded that way). A subtask never escalated whose
 * tests went red and then green inside one attempt (the agent's own retry) is learned from too,
 * by rule and at low confidence: `reflex-own-retry.ts`.
 *
 * **Once.** The learning state lives on the escalation it is learned from, in its stored decision
 * (`decision.reflex`, a {@link ReflexMark}): claimed under the task's lock before anything is
 * proposed, the proposal stored before memory is called (so a retry sends the same lesson), and
 * `learned` once memory answered. A redelivered result finds the mark and learns nothing again.
 */
import type { FailureKind } from '@maestro/contracts';
import { z } from 'zod';
import type { EscalationOutcome, EscalationRecord } from './escalations.js';
import type { SubtaskRecord } from './task.js';

/** Where learning a reflex stands. */
export const ReflexMarkStates = {
  /** Claimed: a learner is proposing the lesson or calling memory (until `claimedUntil`). */
  learning: 'learning',
  /** Memory took the lesson (created, merged into a duplicate, or superseding a contradiction). */
  learned: 'learned',
  /** Given up: memory kept failing, or refused the lesson. Never tried again. */
  dropped: 'dropped',
} as const;
export type ReflexMarkState = (typeof ReflexMarkStates)[keyof typeof ReflexMarkStates];

/** A lesson ready for memory: what it says, its subject, and who worded it. */
export interface ReflexProposal {
  lesson: string;
  /**
   * The subject memory merges and supersedes on: always the failure's signature
   * (`reflex-rule.ts` `topicOf`), whoever worded the lesson.
   */
  topic: string;
  /** `rule`, `model:<provider>/<model>`, or `scripted:<model>` for a scripted reply. */
  author: string;
}

/** The learning state of the reflex taught by one escalation, kept in its decision (`decision.reflex`). */
export interface ReflexMark {
  state: ReflexMarkState;
  /** The success it is learned from. */
  subtaskId: string;
  attempt: number;
  /** While in the future, a learner holds the claim (ISO-8601); null once released. */
  claimedUntil: string | null;
  /** Stored before memory is called, so every try sends the same lesson. */
  proposal?: ReflexProposal;
  /** What memory answered: the reflex's id and `created` / `merged` / `superseded`. */
  memoryId?: string;
  outcome?: string;
  supersededIds?: string[];
  /** Learning tries so far (claims taken). */
  tries: number;
  /** Why the last try failed. */
  lastError?: string;
  /** When the mark last changed (ISO-8601). */
  at: string;
}

/**
 * A learning left in `learning` state with no claim running (Orion stopped mid-way): the task,
 * the escalation it is learned from, and the success it is learned from (the mark's `subtaskId`).
 */
export interface InterruptedReflex {
  taskId: string;
  escalationId: string;
  subtaskId: string;
}

/** The test evidence of a result, as executors report it. */
export interface TestEvidence {
  command: string[];
  exitCode: number | null;
  passed: boolean;
  outputTail: string;
}

/** The part of a stored result (`SubtaskRecord.result`) that verifies a fix. */
const VerifiedResultSchema = z.object({
  ok: z.literal(true),
  attempt: z.number().int().positive(),
  commitSha: z.string().min(1),
  filesChanged: z.array(z.string()),
  finishedAt: z.string(),
  tests: z.object({ command: z.array(z.string()), exitCode: z.number().int().nullable(), passed: z.literal(true), outputTail: z.string() }),
  merged: z.object({ branch: z.string(), sha: z.string().min(1) }),
});
export type VerifiedResult = z.infer<typeof VerifiedResultSchema>;

/** A fix verified by a merged commit and a passing test run, with the failure it answers. */
export interface VerifiedFix {
  /** The escalation the reflex is learned from (its packet is the failure; its decision the fix). */
  escalation: EscalationRecord;
  decision: EscalationOutcome;
  /** The success it is learned from: the subtask (for a re-plan, its last replacement to finish) and attempt. */
  subtaskId: string;
  attempt: number;
  /** The task branch's commit after the fix was merged. */
  mergedSha: string;
  /** The passing test run. */
  tests: TestEvidence;
  /** Files the fix changed (for a re-plan, every replacement's). */
  filesChanged: string[];
  /** For a re-plan: the replacement subtasks' titles, in plan order. */
  replacementTitles?: string[];
}

/** Why nothing is learned from a success, or the fix to learn from. */
export type LearnableOutcome = { learn: true; fix: VerifiedFix } | { learn: false; reason: string };

/** The verified success a stored result stands for (ok, merged, tests passed), or why it is none. */
export function verifiedResultOf(subtask: SubtaskRecord): VerifiedResult | string {
  if (subtask.status !== 'succeeded') return `subtask ${subtask.id} is ${subtask.status}`;
  const parsed = VerifiedResultSchema.safeParse(subtask.result);
  if (parsed.success) return parsed.data;
  const result = (subtask.result ?? {}) as { tests?: { passed?: unknown }; merged?: unknown };
  if (result.tests === undefined) return `subtask ${subtask.id}'s result has no test run`;
  if (result.tests.passed !== true) return `subtask ${subtask.id}'s tests did not pass`;
  if (result.merged === undefined) return `subtask ${subtask.id}'s commit was not merged into the task branch`;
  return `subtask ${subtask.id}'s result is not a verified success (${parsed.error.issues[0]?.path.join('.') ?? 'unknown field'})`;
}

function isDecided(e: EscalationRecord, kinds: ReadonlyArray<EscalationOutcome['kind']>): e is EscalationRecord & { decision: EscalationOutcome } {
  return e.status === 'decided' && e.decision !== null && kinds.includes(e.decision.kind);
}

/**
 * The verified fix a succeeded subtask stands for, if any: the latest escalation of the subtask
 * decided `hint` or `takeover` before the successful attempt; else, for a subtask a re-plan put
 * in place of an escalated one, that `replan` once every one of its replacements succeeded
 * verified. `escalations` are the task's, oldest first. An escalation already learned from (or
 * given up on) is not learned again.
 */
export function findVerifiedFix(subtasks: readonly SubtaskRecord[], escalations: readonly EscalationRecord[], subtaskId: string): LearnableOutcome {
  const subtask = subtasks.find((s) => s.id === subtaskId);
  if (subtask === undefined) return { learn: false, reason: `subtask ${subtaskId} is not the task's` };
  const result = verifiedResultOf(subtask);
  if (typeof result === 'string') return { learn: false, reason: result };

  const direct = escalations
    .filter((e) => e.subtaskId === subtaskId && e.attempt < result.attempt)
    .filter((e) => isDecided(e, ['hint', 'takeover']))
    .sort((a, b) => b.attempt - a.attempt)[0];
  if (direct !== undefined && direct.decision !== null) {
    return settled(direct, {
      escalation: direct,
      decision: direct.decision,
      subtaskId,
      attempt: result.attempt,
      mergedSha: result.merged.sha,
      tests: result.tests,
      filesChanged: result.filesChanged,
    });
  }

  const replan =
    subtask.replaces === null
      ? undefined
      : escalations.find((e) => e.subtaskId === subtask.replaces && isDecided(e, ['replan']) && (e.decision?.subtasks ?? []).includes(subtaskId));
  if (replan === undefined || replan.decision === null) {
    return { learn: false, reason: `subtask ${subtaskId} was never escalated` };
  }
  const ids = replan.decision.subtasks ?? [];
  const replacements = ids.map((id) => subtasks.find((s) => s.id === id));
  const verified: Array<{ subtask: SubtaskRecord; result: VerifiedResult }> = [];
  for (const [i, replacement] of replacements.entries()) {
    if (replacement === undefined) return { learn: false, reason: `replacement subtask ${ids[i] ?? '?'} is missing` };
    const r = verifiedResultOf(replacement);
    if (typeof r === 'string') return { learn: false, reason: `not every replacement of ${replan.subtaskId} succeeded verified yet: ${r}` };
    verified.push({ subtask: replacement, result: r });
  }
  // The replacement that finished last: its merge holds every other one's.
  const last = [...verified].sort((a, b) => Date.parse(b.result.finishedAt) - Date.parse(a.result.finishedAt))[0]!;
  return settled(replan, {
    escalation: replan,
    decision: replan.decision,
    subtaskId: last.subtask.id,
    attempt: last.result.attempt,
    mergedSha: last.result.merged.sha,
    tests: last.result.tests,
    filesChanged: [...new Set(verified.flatMap((v) => v.result.filesChanged))],
    replacementTitles: verified.map((v) => v.subtask.title),
  });
}

function settled(escalation: EscalationRecord, fix: VerifiedFix): LearnableOutcome {
  const mark = escalation.decision?.reflex;
  if (mark?.state === ReflexMarkStates.learned) return { learn: false, reason: `already learned from escalation ${escalation.escalationId} (memory ${mark.memoryId ?? '?'})` };
  if (mark?.state === ReflexMarkStates.dropped) return { learn: false, reason: `learning from escalation ${escalation.escalationId} was given up (${mark.lastError ?? 'no reason'})` };
  return { learn: true, fix };
}

/** What a learner may do with a verified fix's mark. */
export type ReflexClaim = { action: 'claim'; mark: ReflexMark } | { action: 'skip'; reason: string };

/**
 * Takes the claim on learning from a fix: refused while another learner's claim runs (a
 * concurrent redelivery, another replica); otherwise the mark is (re)claimed until `now +
 * claimMs`, keeping any stored proposal.
 */
export function claimReflex(fix: VerifiedFix, now: Date, claimMs: number): ReflexClaim {
  const mark = fix.decision.reflex;
  if (mark !== undefined && mark.state !== ReflexMarkStates.learning) return { action: 'skip', reason: `reflex ${mark.state}` };
  if (mark?.claimedUntil != null && Date.parse(mark.claimedUntil) > now.getTime()) {
    return { action: 'skip', reason: `another learner holds the claim until ${mark.claimedUntil}` };
  }
  return {
    action: 'claim',
    mark: {
      ...(mark ?? {}),
      state: ReflexMarkStates.learning,
      subtaskId: fix.subtaskId,
      attempt: fix.attempt,
      claimedUntil: new Date(now.getTime() + claimMs).toISOString(),
      tries: (mark?.tries ?? 0) + 1,
      at: now.toISOString(),
    },
  };
}

/** What a fix was, in a few words (provenance `fix`). */
export function describeFix(fix: VerifiedFix): string {
  const d = fix.decision;
  switch (d.kind) {
    case 'hint':
      return `hint: ${d.hint ?? d.reason}`;
    case 'takeover':
      return `takeover by the strategic model: ${d.reason}${d.hint ? ` (notes: ${d.hint})` : ''}`;
    case 'replan':
      return `replan into ${(d.subtasks ?? []).join(', ')}${fix.replacementTitles ? ` (${fix.replacementTitles.join('; ')})` : ''}: ${d.reason}`;
    default:
      return `${d.kind}: ${d.reason}`;
  }
}

/** The failure kind of a fix's escalation. */
export function failureKindOf(fix: VerifiedFix): FailureKind {
  return fix.escalation.escalation.packet.reason;
}
