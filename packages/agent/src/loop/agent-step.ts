/**
 * What the loop reports while it runs (`AgentStep`, one per model turn, tool call, test run,
 * recall, condensation and the verdict) and how a run ends (`AgentVerdict`).
 */
import type { Condensation, RecalledMemory, WorkStepModelCall } from '@maestro/contracts';
import type { Usage } from '@maestro/llm';

/** Kinds of {@link AgentStep}. */
export const AgentStepKinds = {
  /** A model turn. */
  model: 'model',
  /**
   * A tool call (native or written as JSON text), the edits of a text reply (tool `edits`), a
   * text reply that could not be read (tool `edits` or `tool_call`), or a test run (tool `tests`).
   */
  tool: 'tool',
  /** The end of the run. */
  verdict: 'verdict',
  /** The memories that went into the system prompt (`recalled`), reported before the first model turn. */
  recall: 'recall',
  /** The context was condensed before a model turn (`condensation`). */
  condensation: 'condensation',
} as const;
/** One of {@link AgentStepKinds}. */
export type AgentStepKind = (typeof AgentStepKinds)[keyof typeof AgentStepKinds];

/** Something that happened, reported as it happens (for `maestro.events.work.step`). */
export interface AgentStep {
  /** Position of this report in the run, from 0. */
  index: number;
  /** See {@link AgentStepKinds}. */
  kind: AgentStepKind;
  tool?: string;
  /** A short human-readable account (truncated). */
  summary: string;
  ok: boolean;
  /** For model turns: whether the reply came from a script, so nobody mistakes it for a model's. */
  scripted?: boolean;
  /** For `recall`: exactly the memories that went into the prompt, as they went in. */
  recalled?: RecalledMemory[];
  /** For `condensation`: what the condensation did (tokens before and after, what was dropped). */
  condensation?: Condensation;
  /** For model turns: who answered, its tokens and cost (`usd` 0 and `priced` false when the model gave no price). */
  modelCall?: WorkStepModelCall;
  /** How long the model call, tool run or test run took, in milliseconds (the loop's clock). */
  durationMs?: number;
  /**
   * For `tool`: the call's arguments as JSON text (for the test gate, the test command; absent for
   * edits written in the reply), whole: whoever publishes the step bounds it.
   */
  arguments?: string;
  /** For `tool`: what the tool answered (the test output, the edits' outcome), whole: whoever publishes the step bounds it. */
  observation?: string;
  /** For `tool`: marks for a person, e.g. `ci-config-changed` (see `StepFlags`). */
  flags?: string[];
}

/** A failed test run the agent got past on its own: the failing tests it named, the output's tail, the exit code. */
export interface RecoveredFrom {
  /** The failing tests' names, when the output named them all (at most 20); empty otherwise. */
  failingTests: string[];
  /** The end of the failed run's output (at most `TEST_OUTPUT_TAIL` characters). */
  outputTail: string;
  /** Null when the run timed out, was killed or could not start. */
  exitCode: number | null;
}

/** How a run ended, with its evidence. */
export interface AgentVerdict {
  status: 'succeeded' | 'failed' | 'stuck' | 'budget_exhausted';
  /** Why it did not succeed. */
  reason?: string;
  summary: string;
  /** Model turns taken. */
  steps: number;
  /** Workspace-relative paths changed during the run (committed or not). */
  filesChanged: string[];
  /** The last commit made by `git.commit` during the loop. */
  commitSha?: string;
  /**
   * The last run of the test command. `exceptBaseline` is set when the run failed only in tests
   * that already failed before the work started (see `baselineFailures`): it lists them, and
   * `passed` is true because the gate counted the run as passed.
   */
  tests?: { command: string[]; exitCode: number | null; passed: boolean; outputTail: string; exceptBaseline?: string[] };
  /**
   * The first failed test run of this loop, when the run still `succeeded` with a passing final
   * run after it: the agent recovered on its own retry (a lesson Orion may learn). Unset when no
   * run failed, when the run did not succeed, and for failures the baseline excused (those never
   * count as failed runs).
   */
  recoveredFrom?: RecoveredFrom;
  /** Tokens of every model call of the run: the turns, and a model summariser's calls when one condensed the context. */
  usage: Usage;
}
