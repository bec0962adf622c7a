/**
 * The state of one run of the loop and what every part of it shares: the full conversation
 * (the condenser derives each request from it), usage, the files and commit the tools reported,
 * the last test run, step reporting, the wall-clock budget, and `finish`, which turns the state
 * into the verdict.
 */
import type { ChatMessage, Usage } from '@maestro/llm';
import { redactDeep } from '@maestro/runtime';
import type { ToolContext } from '../tool-registry.js';
import type { AgentStep, AgentVerdict, RecoveredFrom } from './agent-step.js';
import { gitChangedFiles, gitHead } from './git-changes.js';
import type { LoopSettings } from './loop-options.js';
import { truncate } from './step-text.js';
import { StuckDetector } from './stuck-detector.js';

/** What a run ends with, before the verdict is built: status, summary and why. */
export interface LoopEnd {
  status: AgentVerdict['status'];
  summary: string;
  reason?: string;
}

/** See the module comment. */
export class LoopRun {
  /** The whole conversation, never shortened: the condenser shortens the request, not this. */
  readonly history: ChatMessage[] = [];
  readonly usage: Usage = { inputTokens: 0, outputTokens: 0 };
  readonly reportedFiles = new Set<string>();
  readonly stuck = new StuckDetector();
  /** Model turns taken. */
  steps = 0;
  commitSha: string | undefined;
  tests: AgentVerdict['tests'];
  /** The first test run that failed (and was not excused by the baseline), kept for `recoveredFrom`. */
  firstFailure: RecoveredFrom | undefined;
  /** The last non-empty text the model wrote: the summary of a verdict that has no better one. */
  lastContent = '';
  private stepIndex = 0;

  private constructor(
    readonly settings: LoopSettings,
    private readonly baseSha: string | undefined,
    private readonly startedAt: number,
  ) {}

  /** Starts a run: reads the commit it starts from (for `filesChanged`) and starts the wall clock. */
  static async start(settings: LoopSettings): Promise<LoopRun> {
    const startedAt = settings.clock.now();
    return new LoopRun(settings, await gitHead(settings.workspace, settings.options.env), startedAt);
  }

  /** Reports a step to `onStep`, numbered in order, redacted (see `RunAgentLoopOptions.redactor`). */
  async report(step: Omit<AgentStep, 'index'>): Promise<void> {
    const index = this.stepIndex++;
    await this.settings.options.onStep?.({ index, ...this.redacted(step) });
  }

  /** `value`'s strings without the secrets of `RunAgentLoopOptions.redactor`; `value` itself without one. */
  redacted<T>(value: T): T {
    const { redactor } = this.settings.options;
    return redactor === undefined ? value : redactDeep(redactor, value);
  }

  /** Adds a model call's tokens (a turn's or a model summariser's). */
  addUsage(usage: Usage): void {
    this.usage.inputTokens += usage.inputTokens;
    this.usage.outputTokens += usage.outputTokens;
    if (usage.cachedInputTokens !== undefined && usage.cachedInputTokens > 0) {
      this.usage.cachedInputTokens = (this.usage.cachedInputTokens ?? 0) + usage.cachedInputTokens;
    }
    if (usage.reasoningTokens !== undefined && usage.reasoningTokens > 0) {
      this.usage.reasoningTokens = (this.usage.reasoningTokens ?? 0) + usage.reasoningTokens;
    }
  }

  /** Input plus output tokens spent so far. */
  tokensSpent(): number {
    return this.usage.inputTokens + this.usage.outputTokens;
  }

  /** Wall time left, at least 1 ms (a timeout of 0 would mean "none"). */
  remainingWall(): number {
    return Math.max(1, this.settings.maxWallMs - (this.settings.clock.now() - this.startedAt));
  }

  outOfTime(): boolean {
    return this.settings.clock.now() - this.startedAt >= this.settings.maxWallMs;
  }

  cancelled(): boolean {
    return this.settings.options.signal?.aborted === true;
  }

  /** Why nothing more may run now (cancelled, out of wall time), or undefined. */
  haltReason(): string | undefined {
    return this.cancelled() ? 'the work was cancelled' : this.outOfTime() ? `the wall-clock budget of ${this.settings.maxWallMs} ms ran out` : undefined;
  }

  /** Built for each call, so every call is cut to the wall time left when it starts, not when the turn started. */
  toolContext(): ToolContext {
    const { options } = this.settings;
    return {
      workspace: this.settings.workspace,
      execTimeoutMs: Math.min(this.settings.execTimeoutMs, this.remainingWall()),
      ...(options.writeGuard ? { writeGuard: options.writeGuard } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.sandbox ? { sandbox: options.sandbox, worktree: this.settings.worktree } : {}),
      changedFiles: [...this.reportedFiles],
    };
  }

  /** Ends the run: builds the verdict (with what git sees changed) and reports it as the last step. */
  async finish(end: LoopEnd): Promise<AgentVerdict> {
    const { status, summary, reason } = end;
    const changed = new Set([...this.reportedFiles, ...(await gitChangedFiles(this.settings.workspace, this.baseSha, this.settings.options.env))]);
    const verdict: AgentVerdict = {
      status,
      summary,
      steps: this.steps,
      filesChanged: [...changed].sort(),
      usage: { ...this.usage },
      ...(reason !== undefined ? { reason } : {}),
      ...(this.commitSha !== undefined ? { commitSha: this.commitSha } : {}),
      ...(this.tests !== undefined ? { tests: this.tests } : {}),
      // Recovered only when the tests failed once and the run still ended on a passing run.
      ...(status === 'succeeded' && this.tests?.passed === true && this.firstFailure !== undefined ? { recoveredFrom: this.firstFailure } : {}),
    };
    await this.report({ kind: 'verdict', summary: truncate(`${status}: ${reason ?? summary}`), ok: status === 'succeeded' });
    // The summary, reason and test output tails leave the process in the subtask's result.
    return this.redacted(verdict);
  }

  /** The end for a run the agent went round in circles in. */
  stuckEnd(reason: string, fallback = 'the agent repeated itself'): LoopEnd {
    return { status: 'stuck', summary: this.lastContent || fallback, reason };
  }

  /** The end for a cancelled run. */
  cancelledEnd(): LoopEnd {
    return { status: 'failed', summary: 'cancelled', reason: 'the work was cancelled' };
  }
}
