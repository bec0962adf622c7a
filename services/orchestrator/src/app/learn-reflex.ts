/**
 * Learning reflexes from verified outcomes: when a subtask that failed and was escalated later
 * succeeds with its commit merged and the repository's tests passing (`domain/reflex-learning.ts`
 * says exactly when), Orion proposes the lesson — worded by the strategic model (role
 * `strategic`, intent `reflect`) when so configured, by rule otherwise or when the model gives no
 * usable lesson — and hands it to memory's `Learn` with its provenance. Memory merges duplicates
 * and supersedes contradicted reflexes.
 *
 * **Own retries.** A subtask never escalated that succeeded verified after its tests failed
 * inside the attempt (`recoveredFrom`) teaches a lesson too, worded by rule only and at low
 * confidence (`domain/reflex-own-retry.ts`), with no mark: memory's merge makes a repeat harmless.
 *
 * **Once per success.** The escalation learned from carries the learning's state
 * (`decision.reflex`): claimed under the task's lock, the proposal stored before memory is
 * called (a retry sends the same lesson), then `learned` with memory's answer. A redelivered
 * result, another replica or a second call finds the claim or the `learned` mark and does
 * nothing. The one gap: Orion stopping between memory's answer and storing `learned` makes a
 * later retry send the same lesson again, which memory merges as a duplicate.
 *
 * **Never fails the task.** Learning runs in the background after the result is recorded
 * ({@link ReflexLearner}). Memory unavailable: logged at warn and retried with backoff
 * (`retryDelaysMs`, about 13 minutes in all by default); after the last retry the reflex is
 * dropped with a warn (marked `dropped`, never tried again). Memory refusing the lesson (a
 * `UserError`: a bug here) drops it at once, logged at error.
 *
 * **Resumed after a stop.** Orion stopping abandons what is in flight (warn), leaving the mark in
 * `learning`: released on a clean stop, claimed until its claim runs out on a crash. At start and
 * then every `resumeEveryMs` (on the injected Clock) the learner looks for such marks with no
 * claim running and learns them again, at most `resumeBatch` per sweep, sending the stored
 * proposal when there is one. Every replica sweeps; the claim keeps two from learning one at once.
 *
 * **One topic per failure.** The topic a reflex is filed under is always the failure's signature
 * (`domain/reflex-rule.ts` `topicOf`); the strategic model only words the lesson.
 */
import { LearnRequest } from '@maestro/contracts';
import { toMaestroError, UserError, type Clock, type Logger } from '@maestro/runtime';
import { askUntilParsed } from '../activities/model-call.js';
import type { MemoryPort, RouterPort } from '../domain/ports.js';
import { buildReflectPrompt, REFLECT_REPLY_FORMAT } from '../domain/prompts.js';
import {
  claimReflex,
  describeFix,
  findVerifiedFix,
  ReflexMarkStates,
  type ReflexMark,
  type ReflexProposal,
  type VerifiedFix,
} from '../domain/reflex-learning.js';
import { modelAuthor, parseReflectReply } from '../domain/reflex-reply.js';
import { toLearnRequest } from '../domain/reflex-request.js';
import { findOwnRetry, proposeOwnRetryReflex, toOwnRetryLearnRequest, type OwnRetry } from '../domain/reflex-own-retry.js';
import { failureSignatureOf, proposeReflexByRule, topicOf } from '../domain/reflex-rule.js';
import type { TaskRecord } from '../domain/task.js';
import type { TaskStore } from '../store/task-store.js';

/** Who words a reflex: the strategic model (falling back to the rule), or the rule alone. */
export const ReflexProposers = { strategic: 'strategic', rule: 'rule' } as const;
export type ReflexProposer = (typeof ReflexProposers)[keyof typeof ReflexProposers];

/** Defaults of reflex learning. */
export const ReflexLearningDefaults = {
  proposer: ReflexProposers.strategic,
  /** Pauses before the retries of a learning that failed (memory or the store unavailable). */
  retryDelaysMs: [1_000, 5_000, 30_000, 120_000, 600_000] as readonly number[],
  memoryDeadlineMs: 10_000,
  modelDeadlineMs: 180_000,
  replyReAsks: 2,
  /** Added to the model and memory deadlines to make a claim's length (see `claimMs`). */
  claimSlackMs: 30_000,
  /** Pause between sweeps for learnings Orion left mid-way. */
  resumeEveryMs: 5 * 60_000,
  /** Interrupted learnings resumed per sweep. */
  resumeBatch: 20,
} as const;

/** How reflexes are learned. */
export interface ReflexLearningOptions {
  /** @default ReflexLearningDefaults.proposer (`strategic`) */
  proposer?: ReflexProposer;
  /** @default ReflexLearningDefaults.retryDelaysMs */
  retryDelaysMs?: readonly number[];
  /** Deadline of the Learn call. @default 10000 */
  memoryDeadlineMs?: number;
  /** Deadline of one `reflect` model call. @default 180000 */
  modelDeadlineMs?: number;
  /** Re-asks of a reflect reply that does not parse before the rule words the lesson. @default 2 */
  replyReAsks?: number;
  /** How long one learner's claim lasts. @default every model call's deadline plus the Learn deadline plus `claimSlackMs` */
  claimMs?: number;
  /** Pause between sweeps for interrupted learnings. @default ReflexLearningDefaults.resumeEveryMs (5 minutes) */
  resumeEveryMs?: number;
  /** Interrupted learnings resumed per sweep. @default ReflexLearningDefaults.resumeBatch (20) */
  resumeBatch?: number;
}

/** What learning needs. */
export interface ReflexLearningDeps {
  store: TaskStore;
  router: RouterPort;
  memory: MemoryPort;
  clock: Clock;
  options?: ReflexLearningOptions;
}

/** What one try did. Transient failures are thrown (the caller retries). */
export type ReflexLearning =
  | { action: 'skipped'; reason: string }
  | { action: 'learned'; proposal: ReflexProposal; memoryId: string; outcome: string; supersededIds: string[] }
  | { action: 'dropped'; reason: string };

/** A signal that never aborts. */
const NEVER: AbortSignal = new AbortController().signal;

function claimMsOf(options: ReflexLearningOptions | undefined): number {
  if (options?.claimMs !== undefined) return options.claimMs;
  const reAsks = options?.replyReAsks ?? ReflexLearningDefaults.replyReAsks;
  return (reAsks + 1) * (options?.modelDeadlineMs ?? ReflexLearningDefaults.modelDeadlineMs) + (options?.memoryDeadlineMs ?? ReflexLearningDefaults.memoryDeadlineMs) + ReflexLearningDefaults.claimSlackMs;
}

/**
 * Updates the mark of the claim taken (identified by its `claimedUntil`), under the task's lock;
 * false when the claim is no longer this learner's (it ran out and another took it).
 */
async function updateMark(deps: ReflexLearningDeps, fix: VerifiedFix, claimedUntil: string | null, next: (mark: ReflexMark) => ReflexMark): Promise<boolean> {
  const done = await deps.store.withLockedTask(fix.escalation.taskId, async (locked) => {
    const record = (await locked.escalations()).find((e) => e.escalationId === fix.escalation.escalationId);
    const mark = record?.decision?.reflex;
    if (record?.decision == null || mark === undefined || mark.state !== ReflexMarkStates.learning || mark.claimedUntil !== claimedUntil) return false;
    await locked.updateEscalation(record.escalationId, { decision: { ...record.decision, reflex: next(mark) } });
    return true;
  });
  return done === true;
}

/** The strategic model's proposal; the rule's when the model gives no usable lesson. */
async function propose(fix: VerifiedFix, task: TaskRecord, deps: ReflexLearningDeps, log: Logger, signal: AbortSignal): Promise<ReflexProposal> {
  const proposer = deps.options?.proposer ?? ReflexLearningDefaults.proposer;
  if (proposer === ReflexProposers.rule) return proposeReflexByRule(fix);
  const signature = failureSignatureOf(fix);
  const { escalation } = fix.escalation;
  const messages = buildReflectPrompt({
    goal: task.goal,
    project: task.project,
    packet: escalation.packet,
    failureReason: escalation.result.failureReason,
    failingTests: signature.failingTests,
    errorLine: signature.errorLine,
    fix: describeFix(fix),
    testCommand: fix.tests.command,
    mergedSha: fix.mergedSha,
    filesChanged: fix.filesChanged,
    topic: topicOf(signature),
  });
  try {
    const { value, model, reAsks } = await askUntilParsed(
      {
        request: { runId: escalation.runId },
        taskId: task.id,
        task,
        subtaskId: fix.subtaskId,
        attempt: fix.attempt,
        deps: { router: deps.router, options: { modelDeadlineMs: deps.options?.modelDeadlineMs ?? ReflexLearningDefaults.modelDeadlineMs } },
        logger: log,
        signal,
      },
      'reflect',
      messages,
      { parse: parseReflectReply, replyFormat: REFLECT_REPLY_FORMAT, reAsks: deps.options?.replyReAsks ?? ReflexLearningDefaults.replyReAsks },
    );
    log.info('strategic model worded the reflex', { provider: model.provider, model: model.model, scripted: model.scripted, reAsks });
    return { lesson: value.lesson, topic: topicOf(signature), author: modelAuthor(model) };
  } catch (err) {
    if (signal.aborted) throw err;
    const error = toMaestroError(err);
    log.warn('strategic model gave no usable reflex; the rule words it', { err: error, code: error.code });
    return proposeReflexByRule(fix);
  }
}

/**
 * One try at learning from the success of `subtaskId` (see the module comment): skipped when
 * there is nothing (more) to learn or another learner holds the claim; throws when memory or the
 * store is unavailable, after releasing the claim, so the caller can retry.
 */
export async function learnReflex(taskId: string, subtaskId: string, deps: ReflexLearningDeps, logger: Logger, signal: AbortSignal = NEVER): Promise<ReflexLearning> {
  const now = (): Date => new Date(deps.clock.now());
  const claimed = await deps.store.withLockedTask(taskId, async (locked) => {
    const subtasks = await locked.subtasks();
    const escalations = await locked.escalations();
    const found = findVerifiedFix(subtasks, escalations, subtaskId);
    if (!found.learn) {
      // No escalation taught it: perhaps the agent's own retry did.
      const own = findOwnRetry(subtasks, escalations, subtaskId);
      return own.learn ? ({ action: 'own-retry', retry: own.retry, task: locked.task } as const) : ({ action: 'skipped', reason: `${found.reason}; ${own.reason}` } as const);
    }
    const claim = claimReflex(found.fix, now(), claimMsOf(deps.options));
    if (claim.action === 'skip') return { action: 'skipped', reason: claim.reason } as const;
    const decision = { ...found.fix.decision, reflex: claim.mark };
    await locked.updateEscalation(found.fix.escalation.escalationId, { decision });
    return { action: 'claimed', fix: { ...found.fix, decision }, mark: claim.mark, task: locked.task } as const;
  });
  if (claimed === undefined) return { action: 'skipped', reason: `task ${taskId} does not exist` };
  if (claimed.action === 'skipped') return claimed;
  if (claimed.action === 'own-retry') return learnOwnRetry(taskId, claimed.task, claimed.retry, deps, logger, signal);
  const { fix, mark, task } = claimed;
  const log = logger.child({ taskId, subtaskId: fix.subtaskId, attempt: fix.attempt, escalationId: fix.escalation.escalationId, reflexTry: mark.tries });

  try {
    let proposal = mark.proposal;
    if (proposal === undefined) {
      const proposed = await propose(fix, task, deps, log, signal);
      proposal = proposed;
      if (!(await updateMark(deps, fix, mark.claimedUntil, (m) => ({ ...m, proposal: proposed, at: now().toISOString() })))) {
        return { action: 'skipped', reason: 'the claim ran out while the lesson was proposed; another learner has it' };
      }
    }
    const request = LearnRequest.fromPartial(toLearnRequest(task.project, fix, proposal, task.tenant));
    const response = await deps.memory.learn(request, { deadlineMs: deps.options?.memoryDeadlineMs ?? ReflexLearningDefaults.memoryDeadlineMs, signal });
    const memoryId = response.memory?.id ?? '';
    await updateMark(deps, fix, mark.claimedUntil, (m) => ({
      ...m,
      state: ReflexMarkStates.learned,
      claimedUntil: null,
      memoryId,
      outcome: response.outcome,
      supersededIds: response.supersededIds,
      at: now().toISOString(),
    }));
    log.info('reflex learned', { memoryId, outcome: response.outcome, supersededIds: response.supersededIds, topic: request.topic, author: proposal.author });
    return { action: 'learned', proposal, memoryId, outcome: response.outcome, supersededIds: response.supersededIds };
  } catch (err) {
    const error = toMaestroError(err);
    const refused = error instanceof UserError && !signal.aborted;
    await updateMark(deps, fix, mark.claimedUntil, (m) => ({
      ...m,
      ...(refused ? { state: ReflexMarkStates.dropped } : {}),
      claimedUntil: null,
      lastError: `${error.code}: ${error.message}`.slice(0, 500),
      at: now().toISOString(),
    })).catch((markErr: unknown) => log.warn('reflex claim not released; it runs out by itself', { err: markErr }));
    if (refused) {
      log.error('memory refused the reflex; dropped', { err: error, code: error.code });
      return { action: 'dropped', reason: `memory refused it (${error.code}): ${error.message}` };
    }
    throw error;
  }
}

/**
 * Learns the lesson of the agent's own retry (`domain/reflex-own-retry.ts`): worded by rule (own
 * retries are frequent: no model call), sent to memory at low confidence. No mark is kept: a
 * second Learn for the same task (a redelivered result, a retry after memory timed out) is
 * harmless, as memory merges the duplicate and never counts the same task twice; an Orion crash
 * mid-way loses the lesson until the result is delivered again. Throws when memory is
 * unavailable (the learner retries); a refusal drops it.
 */
async function learnOwnRetry(taskId: string, task: TaskRecord, retry: OwnRetry, deps: ReflexLearningDeps, logger: Logger, signal: AbortSignal): Promise<ReflexLearning> {
  const log = logger.child({ taskId, subtaskId: retry.subtaskId, attempt: retry.attempt, ownRetry: true });
  const proposal = proposeOwnRetryReflex(retry);
  const request = LearnRequest.fromPartial(toOwnRetryLearnRequest(task.project, taskId, retry, proposal, task.tenant));
  try {
    const response = await deps.memory.learn(request, { deadlineMs: deps.options?.memoryDeadlineMs ?? ReflexLearningDefaults.memoryDeadlineMs, signal });
    const memoryId = response.memory?.id ?? '';
    log.info('reflex learned from an own retry', { memoryId, outcome: response.outcome, supersededIds: response.supersededIds, topic: request.topic, confidence: request.confidence });
    return { action: 'learned', proposal, memoryId, outcome: response.outcome, supersededIds: response.supersededIds };
  } catch (err) {
    const error = toMaestroError(err);
    if (error instanceof UserError && !signal.aborted) {
      log.error('memory refused the own-retry reflex; dropped', { err: error, code: error.code });
      return { action: 'dropped', reason: `memory refused it (${error.code}): ${error.message}` };
    }
    throw error;
  }
}

/** Marks a learning given up after its last retry (best-effort: logged when it cannot be stored). */
async function markDropped(taskId: string, subtaskId: string, reason: string, deps: ReflexLearningDeps, log: Logger): Promise<void> {
  try {
    await deps.store.withLockedTask(taskId, async (locked) => {
      const found = findVerifiedFix(await locked.subtasks(), await locked.escalations(), subtaskId);
      if (!found.learn) return;
      const mark = found.fix.decision.reflex;
      if (mark?.claimedUntil != null && Date.parse(mark.claimedUntil) > deps.clock.now()) return;
      const dropped: ReflexMark = {
        ...(mark ?? { tries: 0 }),
        state: ReflexMarkStates.dropped,
        subtaskId: found.fix.subtaskId,
        attempt: found.fix.attempt,
        claimedUntil: null,
        lastError: reason.slice(0, 500),
        at: new Date(deps.clock.now()).toISOString(),
      };
      await locked.updateEscalation(found.fix.escalation.escalationId, { decision: { ...found.fix.decision, reflex: dropped } });
    });
  } catch (err) {
    log.warn('dropped reflex not marked', { err });
  }
}

/**
 * Runs {@link learnReflex} in the background for each verified success it is told about,
 * retrying failures after `retryDelaysMs` (Clock-driven) and dropping the reflex with a warn
 * after the last; once started, also resumes learnings Orion left mid-way (see the module
 * comment). One learning per (task, subtask) at a time in this process. Never throws.
 */
export class ReflexLearner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private sweeps: Promise<void> | undefined;
  private sweep: Promise<number> | undefined;

  constructor(
    private readonly deps: ReflexLearningDeps,
    private readonly logger: Logger,
  ) {}

  /** Starts learning from the success of `subtaskId` (if there is a lesson in it) in the background. */
  learnFrom(taskId: string, subtaskId: string): void {
    const key = `${taskId}:${subtaskId}`;
    if (this.stopping.signal.aborted || this.running.has(key)) return;
    const run = this.run(taskId, subtaskId).finally(() => this.running.delete(key));
    this.running.set(key, run);
  }

  /**
   * Starts resuming interrupted learnings in the background: one sweep now, then one every
   * `resumeEveryMs` of the clock, until `stop`. A sweep that fails is logged and the next one
   * tries again.
   */
  start(): void {
    if (this.sweeps !== undefined || this.stopping.signal.aborted) return;
    const every = this.deps.options?.resumeEveryMs ?? ReflexLearningDefaults.resumeEveryMs;
    const signal = this.stopping.signal;
    this.sweeps = (async () => {
      while (!signal.aborted) {
        await this.resumeInterrupted().catch((err: unknown) => this.logger.warn('sweep for interrupted reflex learnings failed; retrying at the next one', { err }));
        try {
          await this.deps.clock.sleep(every, signal);
        } catch {
          return;
        }
      }
    })();
  }

  /**
   * One sweep: starts learning again (in the background) from up to `resumeBatch` escalations
   * whose mark was left in `learning` with no claim running; resolves to how many it found.
   */
  async resumeInterrupted(): Promise<number> {
    const sweep = (async () => {
      const batch = this.deps.options?.resumeBatch ?? ReflexLearningDefaults.resumeBatch;
      const found = await this.deps.store.listInterruptedReflexes(new Date(this.deps.clock.now()), batch);
      for (const r of found) this.learnFrom(r.taskId, r.subtaskId);
      if (found.length > 0) this.logger.info('resuming interrupted reflex learnings', { count: found.length, escalationIds: found.map((r) => r.escalationId) });
      return found.length;
    })();
    this.sweep = sweep;
    try {
      return await sweep;
    } finally {
      if (this.sweep === sweep) this.sweep = undefined;
    }
  }

  /** Resolves once every learning in flight (and a sweep in progress) has settled. */
  async idle(): Promise<void> {
    await this.sweep?.catch(() => undefined);
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  /** Stops sweeping, abandons the learnings in flight (their model or memory calls are cancelled) and waits for them to end. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('orchestrator shutting down'));
    await this.sweeps;
    await this.idle();
  }

  private async run(taskId: string, subtaskId: string): Promise<void> {
    const log = this.logger.child({ taskId, subtaskId });
    const delays = this.deps.options?.retryDelaysMs ?? ReflexLearningDefaults.retryDelaysMs;
    const signal = this.stopping.signal;
    for (let retry = 0; ; retry++) {
      try {
        // learnReflex binds the task and subtask to its own lines.
        const outcome = await learnReflex(taskId, subtaskId, this.deps, this.logger, signal);
        if (outcome.action === 'skipped') log.debug('no reflex learned', { reason: outcome.reason });
        return;
      } catch (err) {
        if (signal.aborted) {
          log.warn('reflex learning abandoned: the orchestrator is stopping', { err });
          return;
        }
        const delay = delays[retry];
        if (delay === undefined) {
          log.warn('reflex dropped: learning kept failing', { err, tries: retry + 1 });
          await markDropped(taskId, subtaskId, `gave up after ${retry + 1} tries: ${toMaestroError(err).message}`, this.deps, log);
          return;
        }
        log.warn('reflex learning failed; retrying', { err, retryInMs: delay, retry: retry + 1, of: delays.length });
        try {
          await this.deps.clock.sleep(delay, signal);
        } catch {
          log.warn('reflex learning abandoned: the orchestrator is stopping');
          return;
        }
      }
    }
  }
}
