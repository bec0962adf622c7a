/**
 * The options of `runAgentLoop`, their defaults (in one place, {@link LoopDefaults}) and their
 * validation: {@link resolveLoopOptions} turns what a caller passed into the settings one run uses.
 */
import { realpathSync } from 'node:fs';
import type { RecalledMemory } from '@maestro/contracts';
import { invalidField, systemClock, UserError, type Clock, type Redactor } from '@maestro/runtime';
import type { ChatModel } from '../chat-model.js';
import { contextPolicyFor, type ModelContext } from '../context/context-policy.js';
import type { ContextPolicy, Summariser } from '../context/context-types.js';
import { ReplyFormats, type ReplyFormat } from '../edits/reply-edits.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { worktreeTopOf } from '../sandbox/worktree-top.js';
import type { ToolRegistry } from '../tool-registry.js';
import type { WriteGuard } from '../write-guard.js';
import type { AgentStep } from './agent-step.js';

/** Limits on one run of the loop. */
export interface AgentBudget {
  /** Model turns at most. @default 20 */
  maxSteps?: number;
  /** Wall-clock time at most, in ms. @default 600000 */
  maxWallMs?: number;
  /** Input plus output tokens at most (a model summariser's tokens included). @default 200000 */
  maxTokens?: number;
}

/** An edit format the loop reads in text replies: SEARCH/REPLACE blocks, unified diffs, whole files in named fences. */
export type TextEditFormat = Exclude<ReplyFormat, 'none'>;

/** The text edit formats the loop applies unless told otherwise: the two that say exactly which lines change. */
export const DEFAULT_TEXT_EDIT_FORMATS: readonly TextEditFormat[] = [ReplyFormats.searchReplace, ReplyFormats.unifiedDiff];

/** How the loop keeps each request inside the model's context window (see `context/`). */
export interface AgentContextOptions {
  /**
   * The model the turns go to (`deepseek-chat`, `gemini:gemini-2.5-pro` …), for its context
   * window and tokenizer (`contextPolicyFor`). @default unknown: the conservative default policy
   */
  model?: string;
  /** Overrides parts of the model's policy (a smaller trigger, more recent observations kept …). @default the model's policy */
  policy?: Partial<ContextPolicy>;
  /**
   * Writes the summary of older turns: a model summariser (the tactical model), whose tokens
   * count in the run's usage and budget. @default the rule summariser (no model call)
   */
  summariser?: Summariser;
}

/** Options of `runAgentLoop`. */
export interface RunAgentLoopOptions {
  model: ChatModel;
  tools: ToolRegistry;
  /** Absolute path of the repository to work in. */
  workspace: string;
  /** Replaces the default system prompt (the memories section is still appended to it). */
  systemPrompt?: string;
  /** The subtask, as shown to the model. */
  task: string;
  /** The repository's test command (argv), run for the verdict; empty means there are no tests to run. */
  testCommand: string[];
  budget?: AgentBudget;
  writeGuard?: WriteGuard;
  signal?: AbortSignal;
  onStep?: (step: AgentStep) => void | Promise<void>;
  /** Upper bound for one `exec` tool call. @default 120000 */
  execTimeoutMs?: number;
  /** Upper bound for one run of the test command. @default 300000 */
  testTimeoutMs?: number;
  /**
   * Extra variables for commands (tools, git, the test command), passed as they are on top of
   * the allow-listed part of the executor's environment; only what a command the model chose
   * may read. @default {}
   */
  env?: Record<string, string | undefined>;
  /**
   * Confines the commands the model (`exec`) and the test gate run, with the workspace as their
   * only writable place (see `sandbox/`). Our own git commands are not sandboxed. @default none:
   * commands get `runCommand`'s hygiene only; the executor always passes one
   */
  sandbox?: Sandbox;
  /**
   * The directory sandboxed commands may write: the worktree's top, when `workspace` is a
   * subdirectory of it. @default the nearest of `workspace` and its ancestors holding `.git`
   */
  worktree?: string;
  /** Time source for the wall-clock budget. @default systemClock */
  clock?: Pick<Clock, 'now'>;
  /**
   * The edit formats applied from text replies. Whole files (`'whole-file'`) are left out by
   * default: any code block after a sentence naming a file would replace that file. Add them only
   * for a model prompted to answer with whole files (the prompt then says so). Blocks in other
   * formats are prose. @default ['search-replace', 'unified-diff']
   */
  textEditFormats?: readonly TextEditFormat[];
  /**
   * Tests that already failed on the untouched HEAD (preflight's baseline, by the names
   * `failingTestNames` reads). After "done", a failing test run whose failing tests are all
   * named and all in this list counts as passed, and the verdict says "passed except baseline
   * failures: …". A run with any other failure, or whose failures cannot be named completely
   * (`failingTestNames` says `known: false`: a runner's summary counts failures it does not
   * name, output it cannot read looks like a failure), fails as without it. Names are compared
   * repository-relative: file paths under the workspace lose the workspace prefix, so the
   * baseline must be read with `failingTestNames(output, { cwd: <the baseline's directory> })`.
   * @default [] (every failing run fails)
   */
  baselineFailures?: readonly string[];
  /**
   * The exit code of the baseline run that `baselineFailures` came from. When given, a run is
   * excused only if it exits with the same code (a new way of failing, such as a second command
   * or a crash after the tests, usually changes it). @default undefined (the exit code is not
   * compared; any non-zero exit may be excused by the names alone)
   */
  baselineExitCode?: number;
  /** Condensing: the model's policy and the summariser. Always on. @default the rule summariser under the model's policy */
  context?: AgentContextOptions;
  /** Workspace-relative files in scope (the plan's), pinned: every request names them. @default [] */
  pinnedFiles?: readonly string[];
  /** The user's or team's preferences ("use pnpm"), pinned: every request carries them verbatim. @default [] */
  preferences?: readonly string[];
  /**
   * Memories recalled for this subtask (preferences, project context, reflexes), best first or
   * not: they go into the system prompt in score order until `memoryTokenBudget` is full, and a
   * `recall` step lists exactly those. Preferences among them are pinned too. @default []
   */
  memories?: readonly RecalledMemory[];
  /** Tokens the memories may take in the system prompt. @default 1500 */
  memoryTokenBudget?: number;
  /**
   * Takes the process's secrets out of everything the loop sends out: every request to the model
   * (tool observations are the usual way a key gets in: a file, test output, `env`), every step
   * given to `onStep`, and the verdict. The history itself keeps what the tools said, so the
   * tools work on real text. @default none (nothing is redacted)
   */
  redactor?: Redactor;
}

/** Every default of {@link RunAgentLoopOptions}, in one place. */
export const LoopDefaults = {
  maxSteps: 20,
  maxWallMs: 600_000,
  maxTokens: 200_000,
  execTimeoutMs: 120_000,
  testTimeoutMs: 300_000,
  memoryTokenBudget: 1_500,
} as const;

/** The settings of one run: the options validated, defaults filled in, the workspace resolved. */
export interface LoopSettings {
  options: RunAgentLoopOptions;
  /** The workspace's real path. */
  workspace: string;
  /** The real path of the directory sandboxed commands may write (the worktree's top). */
  worktree: string;
  testCommand: string[];
  maxSteps: number;
  maxWallMs: number;
  maxTokens: number;
  execTimeoutMs: number;
  testTimeoutMs: number;
  clock: Pick<Clock, 'now'>;
  textEditFormats: TextEditFormat[];
  baseline: ReadonlySet<string>;
  baselineExitCode: number | undefined;
  pinnedFiles: string[];
  preferences: string[];
  memories: RecalledMemory[];
  memoryTokenBudget: number;
  /** The context policy (the model's, with the caller's overrides), its token counter and how exact it is. */
  modelContext: ModelContext;
}

/**
 * The model's context policy with the caller's overrides (`model` replaces `context.model`, for
 * the model that answered when the caller named none); a policy that cannot work is
 * INVALID_ARGUMENT naming `context.policy.<field>`.
 */
export function modelContextOf(context: AgentContextOptions | undefined, model: string = context?.model ?? ''): ModelContext {
  try {
    return contextPolicyFor(model, context?.policy ?? {});
  } catch (err) {
    if (err instanceof UserError && err.field !== undefined) {
      throw invalidField(`context.policy.${err.field}`, err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message);
    }
    throw err;
  }
}

/**
 * Validates `options` and fills in the defaults. Throws `INVALID_ARGUMENT` naming the option for
 * a `baselineExitCode` that is not a failing exit code (1–255), a negative `memoryTokenBudget`,
 * or a `context.policy` that cannot work (a target not below the trigger …).
 */
export function resolveLoopOptions(options: RunAgentLoopOptions): LoopSettings {
  const { baselineExitCode } = options;
  if (baselineExitCode !== undefined && (!Number.isInteger(baselineExitCode) || baselineExitCode < 1 || baselineExitCode > 255)) {
    throw invalidField('baselineExitCode', `must be the failing baseline run's exit code, an integer from 1 to 255; got ${baselineExitCode}`);
  }
  const memoryTokenBudget = options.memoryTokenBudget ?? LoopDefaults.memoryTokenBudget;
  if (!Number.isInteger(memoryTokenBudget) || memoryTokenBudget < 0) {
    throw invalidField('memoryTokenBudget', `must be a whole number of tokens, 0 or more; got ${memoryTokenBudget}`);
  }
  const workspace = realpathSync(options.workspace);
  return {
    options,
    workspace,
    worktree: options.worktree !== undefined ? realpathSync(options.worktree) : worktreeTopOf(workspace),
    testCommand: [...options.testCommand],
    maxSteps: options.budget?.maxSteps ?? LoopDefaults.maxSteps,
    maxWallMs: options.budget?.maxWallMs ?? LoopDefaults.maxWallMs,
    maxTokens: options.budget?.maxTokens ?? LoopDefaults.maxTokens,
    execTimeoutMs: options.execTimeoutMs ?? LoopDefaults.execTimeoutMs,
    testTimeoutMs: options.testTimeoutMs ?? LoopDefaults.testTimeoutMs,
    clock: options.clock ?? systemClock,
    textEditFormats: [...(options.textEditFormats ?? DEFAULT_TEXT_EDIT_FORMATS)],
    baseline: new Set(options.baselineFailures ?? []),
    baselineExitCode,
    pinnedFiles: [...(options.pinnedFiles ?? [])],
    preferences: [...(options.preferences ?? [])],
    memories: [...(options.memories ?? [])],
    memoryTokenBudget,
    modelContext: modelContextOf(options.context),
  };
}
