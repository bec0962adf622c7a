/**
 * The tactical agent loop: ask the model, run the tools it calls (natively, or written in its
 * text as JSON), apply the edits it writes in text (SEARCH/REPLACE, diffs, whole files), and
 * when it says it is done run the repository's tests for the verdict, feeding failures back
 * until the tests pass, the budget runs out, or the agent goes round in circles.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { invalidField, systemClock, type Clock } from '@maestro/runtime';
import type { ChatMessage, ToolCall, ToolSpec, Usage } from '@maestro/llm';
import type { ChatModel, ChatModelReply } from './chat-model.js';
import { applyReplyEdits, extractEdits, ReplyFormats, type ReplyFormat } from './edits/reply-edits.js';
import { hasNamedFencedBlock } from './edits/whole-file-parser.js';
import { runCommand, type CommandResult } from './run-command.js';
import { failingTestNames } from './test-failures.js';
import { extractTextToolCalls, TEXT_TOOL_CALL_EXAMPLE } from './text-tool-calls.js';
import type { ToolContext, ToolObservation, ToolRegistry } from './tool-registry.js';
import { listWorkspaceFiles } from './workspace-files.js';
import { resolveWorkspacePath } from './workspace-path.js';
import type { WriteGuard } from './write-guard.js';

/** Limits on one run of the loop. */
export interface AgentBudget {
  /** Model turns at most. @default 20 */
  maxSteps?: number;
  /** Wall-clock time at most, in ms. @default 600000 */
  maxWallMs?: number;
  /** Input plus output tokens at most. @default 200000 */
  maxTokens?: number;
}

/** Something that happened, reported as it happens (for `maestro.events.work.step`). */
export interface AgentStep {
  /** Position of this report in the run, from 0. */
  index: number;
  /**
   * `model`: a model turn; `tool`: a tool call (native or written as JSON text), the edits of a
   * text reply (tool `edits`), a text reply that could not be read (tool `edits` or
   * `tool_call`), or a test run (tool `tests`); `verdict`: the end.
   */
  kind: 'model' | 'tool' | 'verdict';
  tool?: string;
  /** A short human-readable account (truncated). */
  summary: string;
  ok: boolean;
  /** For model turns: whether the reply came from a script, so nobody mistakes it for a model's. */
  scripted?: boolean;
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
  usage: Usage;
}

/** An edit format the loop reads in text replies: SEARCH/REPLACE blocks, unified diffs, whole files in named fences. */
export type TextEditFormat = Exclude<ReplyFormat, 'none'>;

/** The text edit formats the loop applies unless told otherwise: the two that say exactly which lines change. */
export const DEFAULT_TEXT_EDIT_FORMATS: readonly TextEditFormat[] = [ReplyFormats.searchReplace, ReplyFormats.unifiedDiff];

/** Options of {@link runAgentLoop}. */
export interface RunAgentLoopOptions {
  model: ChatModel;
  tools: ToolRegistry;
  /** Absolute path of the repository to work in. */
  workspace: string;
  /** Replaces the default system prompt. */
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
}

/**
 * `promise`, or a rejection with the signal's reason as soon as `signal` aborts, so a call that
 * ignores its signal cannot hold the loop past its budget (its late result is dropped).
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolvePromise, rejectPromise) => {
    const onAbort = (): void => rejectPromise(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        rejectPromise(err);
      },
    );
  });
}

/** How often the same (action, observation) may come back in a row before the run counts as stuck. */
const STUCK_REPEATS = 3;
/** How often two (action, observation) pairs may alternate (A, B, A, B, A, B) before the run counts as stuck. */
const STUCK_ALTERNATIONS = 3;
/**
 * How often the model may say "done" while the tests fail with the same output before the run
 * counts as stuck. Two: the second claim shows the failure fed back after the first changed
 * nothing, and a third attempt would only spend tokens the escalation can use better.
 */
const STUCK_DONE_REPEATS = 2;
/** Characters of test output kept as evidence and fed back to the model. */
const TEST_OUTPUT_TAIL = 4_000;
/**
 * Characters of test output read when there is a baseline to compare with: the failing tests
 * are named all over the output, and a cut-off output cannot prove that only baseline tests failed.
 */
const TEST_OUTPUT_FOR_BASELINE = 1_000_000;
const SUMMARY_MAX = 300;
/** Files offered to the edit parsers for resolving sloppy file names. */
const KNOWN_PATHS_MAX = 20_000;

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : text.slice(text.length - max);
}

/** A call's identity for stuck detection: name plus arguments with keys sorted, so key order does not hide a repeat. */
function callKey(call: Pick<ToolCall, 'name' | 'argumentsJson'>): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value as Record<string, unknown>)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  try {
    return `${call.name}(${JSON.stringify(canonical(JSON.parse(call.argumentsJson)))})`;
  } catch {
    return `${call.name}(${call.argumentsJson})`;
  }
}

/**
 * Output with timings blanked, so two runs of the same failing test count as the same result
 * (`node --test` prints `duration_ms 41.2`, most runners print `12ms` or `0.53 s`).
 */
function withoutTimings(output: string): string {
  return output
    .replace(/duration_ms:?\s*[\d.]+/g, 'duration_ms #')
    .replace(/\b\d+(\.\d+)?\s*(ms|s|sec|seconds?)\b/g, '# $2');
}

/** `fs.read(path, startLine?, endLine?)`: a tool's signature for the prompt, from its schema. */
function signature(spec: ToolSpec): string {
  const properties = spec.parameters.properties;
  const required = new Set(Array.isArray(spec.parameters.required) ? (spec.parameters.required as unknown[]) : []);
  const names = typeof properties === 'object' && properties !== null ? Object.keys(properties) : [];
  return `${spec.name}(${names.map((name) => (required.has(name) ? name : `${name}?`)).join(', ')})`;
}

/**
 * The default system prompt: the rules of the game, the tools, the ways to act without native
 * tool calls (JSON tool calls and edit blocks in the text), and how "done" is judged.
 *
 * @example
 * runAgentLoop({ ..., systemPrompt: `${defaultSystemPrompt(['npm', 'test'], tools.specs())}\nNever touch vendor/.` });
 */
export function defaultSystemPrompt(
  testCommand: readonly string[],
  tools: readonly ToolSpec[] = [],
  textEditFormats: readonly TextEditFormat[] = DEFAULT_TEXT_EDIT_FORMATS,
): string {
  const formats = new Set(textEditFormats);
  const others = [
    ...(formats.has(ReplyFormats.unifiedDiff) ? ['with a unified diff in a ```diff block'] : []),
    ...(formats.has(ReplyFormats.wholeFile) ? ['with the whole new file in a fenced block after a line with its path'] : []),
  ];
  const textEdits = formats.has(ReplyFormats.searchReplace)
    ? [
        'You may also edit files in your reply with SEARCH/REPLACE blocks: the file path alone on a line, then',
        '<<<<<<< SEARCH',
        'the exact lines to replace',
        '=======',
        'the new lines',
        '>>>>>>> REPLACE',
        `(an empty SEARCH section creates the file)${others.length > 0 ? `, ${others.join(', or ')}` : ''}.`,
      ]
    : others.length > 0
      ? [`You may also edit files in your reply ${others.join(', or ')}.`]
      : [];
  return [
    'You are a careful software engineer working inside a git repository (the workspace).',
    'Use the tools to look at the code, change it, and run commands. Paths are relative to the workspace root.',
    ...(tools.length > 0 ? [`Tools: ${tools.map(signature).join('; ')}.`] : []),
    `If you cannot make native tool calls, write a call as a JSON object in a \`\`\`json block: ${TEXT_TOOL_CALL_EXAMPLE} ` +
      '({"name": ..., "arguments": ...} works too; several calls may be listed in a JSON array). The results come back in the next message.',
    ...textEdits,
    'When you have finished the task, reply with a short summary and no tool calls or edits.',
    testCommand.length > 0
      ? `Your work is then checked by running ${JSON.stringify(testCommand)}; if it fails you get the output and continue.`
      : 'There is no test command for this repository; check your work yourself before you finish.',
    'Commit your finished work with git.commit.',
  ].join('\n');
}

/** What the test gate made of a failed run, given the baseline. */
type BaselineJudgement = { excused: true; names: string[] } | { excused: false; reason: string };

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

/** One entry of the action history that stuck detection reads. */
interface HistoryEntry {
  /** Action and observation together; equal keys mean the same thing happened again. */
  key: string;
  /** The action in words, for the verdict's reason (`fs.read({"path":"a"})`). */
  action: string;
}

/**
 * Why the run is stuck, judging by the end of `history`, or undefined: the same (action,
 * observation) three times in a row, or two of them alternating three times (A, B, A, B, A, B).
 */
function stuckReason(history: readonly HistoryEntry[]): string | undefined {
  const n = history.length;
  const last = history[n - 1];
  if (last === undefined) return undefined;
  if (n >= STUCK_REPEATS && history.slice(n - STUCK_REPEATS).every((entry) => entry.key === last.key)) {
    return `${last.action} returned the same result ${STUCK_REPEATS} times`;
  }
  const window = STUCK_ALTERNATIONS * 2;
  const other = history[n - 2];
  if (n >= window && other !== undefined && other.key !== last.key) {
    const alternating = history.slice(n - window).every((entry, i) => entry.key === (i % 2 === 0 ? other.key : last.key));
    if (alternating) return `alternated between ${other.action} and ${last.action}, with the same results, ${STUCK_ALTERNATIONS} times`;
  }
  return undefined;
}

/** Lists the paths changed since `baseSha` (committed or not) plus untracked files, relative to the workspace. */
async function gitChangedFiles(workspace: string, baseSha: string | undefined, env: Record<string, string | undefined> | undefined): Promise<string[]> {
  const opts = { cwd: workspace, timeoutMs: 30_000, ...(env ? { env } : {}) };
  const files = new Set<string>();
  const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const untracked = await runCommand(['git', 'ls-files', '--others', '--exclude-standard'], opts);
  if (untracked.exitCode !== 0) return [];
  lines(untracked.output).forEach((f) => files.add(f));
  if (baseSha !== undefined) {
    const diff = await runCommand(['git', 'diff', '--name-only', '--relative', baseSha], opts);
    if (diff.exitCode === 0) lines(diff.output).forEach((f) => files.add(f));
  } else {
    // No commit at the start: everything committed since, plus tracked changes, is new.
    const logged = await runCommand(['git', 'log', '--name-only', '--format=', '--relative'], opts);
    if (logged.exitCode === 0) lines(logged.output).forEach((f) => files.add(f));
    const staged = await runCommand(['git', 'diff', '--name-only', '--relative', '--cached'], opts);
    if (staged.exitCode === 0) lines(staged.output).forEach((f) => files.add(f));
  }
  return [...files];
}

async function gitHead(workspace: string, env: Record<string, string | undefined> | undefined): Promise<string | undefined> {
  const head = await runCommand(['git', 'rev-parse', '--verify', '-q', 'HEAD'], { cwd: workspace, timeoutMs: 30_000, ...(env ? { env } : {}) });
  return head.exitCode === 0 ? head.output.trim() : undefined;
}

/**
 * Runs the agent loop until a verdict. Each turn sends the conversation and the tool specs.
 * Native tool calls are run and answered with `tool` messages. A reply without native calls is
 * read as text: JSON tool calls in it are run and edit blocks (SEARCH/REPLACE, unified diff,
 * whole file) applied, all answered in one user message; a reply whose edits or calls cannot be
 * read gets the parser's message and the loop goes on. A reply with none of these means "done",
 * so the test command runs: exit 0 is success (with the test run as evidence), and so is a
 * failure only in tests named in `baselineFailures` (every failure named, all of them in the
 * baseline, the exit code the baseline's when `baselineExitCode` is given; the verdict says
 * "passed except baseline failures: …"); anything else is fed back and the loop goes on within
 * budget. The same (action, observation) three times in a row, two of them alternating three
 * times, or the same failing test output after "done" twice ends the run as `stuck`. Never
 * throws for model or tool failures; they end in a verdict. Throws `INVALID_ARGUMENT` for a
 * `baselineExitCode` that is not a failing exit code (1–255).
 */
export async function runAgentLoop(options: RunAgentLoopOptions): Promise<AgentVerdict> {
  const maxSteps = options.budget?.maxSteps ?? 20;
  const maxWallMs = options.budget?.maxWallMs ?? 600_000;
  const maxTokens = options.budget?.maxTokens ?? 200_000;
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const workspace = realpathSync(options.workspace);
  const testCommand = [...options.testCommand];
  const execCeiling = options.execTimeoutMs ?? 120_000;
  const testTimeoutMs = options.testTimeoutMs ?? 300_000;
  const remainingWall = (): number => Math.max(1, maxWallMs - (clock.now() - startedAt));
  const outOfTime = (): boolean => clock.now() - startedAt >= maxWallMs;
  const textEditFormats = [...(options.textEditFormats ?? DEFAULT_TEXT_EDIT_FORMATS)];
  const baseline = new Set(options.baselineFailures ?? []);
  const { baselineExitCode } = options;
  if (baselineExitCode !== undefined && (!Number.isInteger(baselineExitCode) || baselineExitCode < 1 || baselineExitCode > 255)) {
    throw invalidField('baselineExitCode', `must be the failing baseline run's exit code, an integer from 1 to 255; got ${baselineExitCode}`);
  }

  const baseSha = await gitHead(workspace, options.env);
  const specs = options.tools.specs();
  const messages: ChatMessage[] = [
    { role: 'system', content: options.systemPrompt ?? defaultSystemPrompt(testCommand, specs, textEditFormats) },
    { role: 'user', content: options.task },
  ];
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  const history: HistoryEntry[] = [];
  const failingTests = new Map<string, number>();
  const reportedFiles = new Set<string>();
  let steps = 0;
  let stepIndex = 0;
  let commitSha: string | undefined;
  let tests: AgentVerdict['tests'];
  let lastContent = '';

  const report = async (step: Omit<AgentStep, 'index'>): Promise<void> => {
    const index = stepIndex++;
    await options.onStep?.({ index, ...step });
  };
  /**
   * Records an (action, observation) pair; returns why the run is stuck, if it now is. `identity`
   * is the action in full when `action` (its description) does not tell two actions apart.
   */
  const remember = (action: string, observation: string, identity: string = action): string | undefined => {
    history.push({ key: `${identity}\0${withoutTimings(observation)}`, action });
    return stuckReason(history);
  };
  const finish = async (status: AgentVerdict['status'], summary: string, reason?: string): Promise<AgentVerdict> => {
    const changed = new Set([...reportedFiles, ...(await gitChangedFiles(workspace, baseSha, options.env))]);
    const verdict: AgentVerdict = {
      status,
      summary,
      steps,
      filesChanged: [...changed].sort(),
      usage: { ...usage },
      ...(reason !== undefined ? { reason } : {}),
      ...(commitSha !== undefined ? { commitSha } : {}),
      ...(tests !== undefined ? { tests } : {}),
    };
    await report({ kind: 'verdict', summary: truncate(`${status}: ${reason ?? summary}`, SUMMARY_MAX), ok: status === 'succeeded' });
    return verdict;
  };
  /** Built for each call, so every call is cut to the wall time left when it starts, not when the turn started. */
  const toolContext = (): ToolContext => ({
    workspace,
    execTimeoutMs: Math.min(execCeiling, remainingWall()),
    ...(options.writeGuard ? { writeGuard: options.writeGuard } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.env ? { env: options.env } : {}),
    changedFiles: [...reportedFiles],
  });
  /** Why nothing more may run now (cancelled, out of wall time), or undefined. */
  const haltReason = (): string | undefined =>
    options.signal?.aborted ? 'the work was cancelled' : outOfTime() ? `the wall-clock budget of ${maxWallMs} ms ran out` : undefined;
  /**
   * Runs one call (native or from the text), records it, and returns its observation and any
   * stuck reason. A call that may not run any more (cancelled, out of time) is answered without
   * running, so every call the model made still gets an answer.
   */
  const runCall = async (call: ToolCall): Promise<{ observation: ToolObservation; stuck?: string }> => {
    const halt = haltReason();
    if (halt !== undefined) {
      const observation = { ok: false, output: `${call.name} was not run: ${halt}.` };
      await report({ kind: 'tool', tool: call.name, summary: truncate(`${callKey(call)} → ${observation.output}`, SUMMARY_MAX), ok: false });
      return { observation };
    }
    const observation = await options.tools.run(call, toolContext());
    observation.effects?.filesChanged?.forEach((f) => reportedFiles.add(f));
    if (observation.effects?.commitSha !== undefined) commitSha = observation.effects.commitSha;
    await report({
      kind: 'tool',
      tool: call.name,
      summary: truncate(`${callKey(call)} → ${observation.output}`, SUMMARY_MAX),
      ok: observation.ok,
    });
    const stuck = remember(callKey(call), observation.output);
    return stuck === undefined ? { observation } : { observation, stuck };
  };
  /** For diff headers: does the workspace have this path (so an `a/` or `b/` directory is real)? */
  const existsInWorkspace = (path: string): boolean => {
    try {
      lstatSync(resolveWorkspacePath(workspace, path).absolute);
      return true;
    } catch {
      return false;
    }
  };
  const knownPaths = async (): Promise<string[]> => {
    try {
      return (await listWorkspaceFiles(workspace, '.', { maxFiles: KNOWN_PATHS_MAX, ...(options.signal ? { signal: options.signal } : {}), ...(options.env ? { env: options.env } : {}) })).files;
    } catch {
      // Without the list, names are taken as written; the edit itself still checks every path.
      return [];
    }
  };

  for (;;) {
    if (options.signal?.aborted) return finish('failed', 'cancelled', 'the work was cancelled');
    if (steps >= maxSteps) return finish('budget_exhausted', lastContent || 'out of steps', `used all ${maxSteps} model turns without passing tests`);
    if (clock.now() - startedAt >= maxWallMs) return finish('budget_exhausted', lastContent || 'out of time', `used the whole wall-clock budget of ${maxWallMs} ms`);
    if (usage.inputTokens + usage.outputTokens >= maxTokens) {
      return finish('budget_exhausted', lastContent || 'out of tokens', `used ${usage.inputTokens + usage.outputTokens} of ${maxTokens} tokens`);
    }

    let reply: ChatModelReply;
    // The model call gets the time left too: its signal aborts at the wall-clock budget (or when
    // the caller cancels), and the loop stops waiting then even if the model ignores the signal.
    const wallSignal = AbortSignal.timeout(remainingWall());
    const signal = options.signal ? AbortSignal.any([options.signal, wallSignal]) : wallSignal;
    try {
      reply = await untilAborted(options.model.complete({ messages: [...messages], tools: specs, signal }), signal);
    } catch (err) {
      if (options.signal?.aborted) return finish('failed', 'cancelled', 'the work was cancelled');
      if (wallSignal.aborted || outOfTime()) {
        return finish('budget_exhausted', lastContent || 'out of time', `used the whole wall-clock budget of ${maxWallMs} ms (the model call was cut off)`);
      }
      return finish('failed', lastContent || 'the model call failed', `model call failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    steps += 1;
    usage.inputTokens += reply.usage.inputTokens;
    usage.outputTokens += reply.usage.outputTokens;
    messages.push(reply.message);
    const calls = reply.message.toolCalls ?? [];
    const content = reply.message.content;
    if (content.trim() !== '') lastContent = content.trim();
    await report({
      kind: 'model',
      summary: truncate(
        `${reply.scripted ? '[scripted] ' : ''}${reply.provider}/${reply.model}: ${content || '(no text)'}${calls.length > 0 ? ` → ${calls.map((c) => c.name).join(', ')}` : ''}`,
        SUMMARY_MAX,
      ),
      ok: true,
      scripted: reply.scripted,
    });

    if (calls.length > 0) {
      for (const call of calls) {
        const { observation, stuck } = await runCall(call);
        messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: observation.output });
        if (stuck !== undefined) return finish('stuck', lastContent || 'the agent repeated itself', stuck);
      }
      continue;
    }

    // No native calls: the text may hold edits or JSON tool calls; without either, the model is done.
    // Whole files only when configured, and never matched by basename: a guess would overwrite a file.
    const known = await knownPaths();
    const found = extractEdits(content, { knownPaths: known, formats: textEditFormats, exists: existsInWorkspace, matchBasenames: false });
    const wholeFiles = found.ok ? found.value.edits.flatMap((edit) => (edit.kind === 'whole-file' ? [edit.content] : [])) : [];
    const textCalls = extractTextToolCalls(content, { ignoreBlocks: wholeFiles });
    if (!found.ok || !textCalls.ok) {
      const problem = !found.ok
        ? `${found.error.message}${textCalls.ok && textCalls.calls.length > 0 ? ' The tool calls in your reply were not run either.' : ''}`
        : textCalls.ok
          ? ''
          : textCalls.message;
      messages.push({ role: 'user', content: problem });
      await report({ kind: 'tool', tool: !found.ok ? 'edits' : 'tool_call', summary: truncate(problem, SUMMARY_MAX), ok: false });
      const stuck = remember('an unreadable reply', problem, `reply\0${content.trim()}`);
      if (stuck !== undefined) return finish('stuck', lastContent || 'the agent repeated itself', stuck);
      continue;
    }
    const edits = found.value.edits;
    if (edits.length > 0 || textCalls.calls.length > 0) {
      const answers: string[] = [];
      let editsFailed = false;
      if (edits.length > 0) {
        let outcome: string;
        let ok: boolean;
        try {
          const applied = await applyReplyEdits(workspace, edits, options.writeGuard ? { writeGuard: options.writeGuard } : {});
          ok = applied.ok;
          if (applied.ok) {
            applied.value.files.filter((file) => file.action !== 'unchanged').forEach((file) => reportedFiles.add(file.path));
            const shell = found.value.shell.length;
            outcome =
              applied.value.summary +
              (shell > 0 ? ` The ${shell === 1 ? 'shell block' : `${shell} shell blocks`} in your reply ${shell === 1 ? 'was' : 'were'} not run; use the exec tool to run commands.` : '');
          } else {
            outcome = applied.error.message;
          }
        } catch (err) {
          ok = false;
          outcome = `The edits in your reply could not be applied: ${err instanceof Error ? err.message : String(err)}. Nothing was changed.`;
        }
        editsFailed = !ok;
        answers.push(outcome);
        await report({ kind: 'tool', tool: 'edits', summary: truncate(`${found.value.format}: ${outcome}`, SUMMARY_MAX), ok });
        const stuck = remember(`the same ${found.value.format} edits`, outcome, `edits\0${content.trim()}`);
        if (stuck !== undefined) return finish('stuck', lastContent || 'the agent repeated itself', stuck);
      }
      if (editsFailed && textCalls.calls.length > 0) {
        answers.push('The tool calls in your reply were not run, because its edits failed; send them again once the edits apply.');
      } else if (textCalls.calls.length > 0) {
        for (const [i, textCall] of textCalls.calls.entries()) {
          const call: ToolCall = { id: `text-${steps}-${i + 1}`, name: textCall.name, argumentsJson: textCall.argumentsJson };
          const { observation, stuck } = await runCall(call);
          answers.push(
            `${call.name} ${observation.ok ? 'returned' : 'failed'}:\n${observation.output}` +
              (textCall.repaired ? `\n[note: your tool call was not valid JSON; it was repaired and read as ${callKey(call)}. Send strict JSON next time.]` : ''),
          );
          if (stuck !== undefined) {
            messages.push({ role: 'user', content: answers.join('\n\n') });
            return finish('stuck', lastContent || 'the agent repeated itself', stuck);
          }
        }
      }
      messages.push({ role: 'user', content: answers.join('\n\n') });
      continue;
    }

    // The model says it is done. The tests decide.
    if (testCommand.length === 0) {
      return finish('succeeded', lastContent || 'done (no test command to run)');
    }
    if (options.signal?.aborted) return finish('failed', 'cancelled', 'the work was cancelled');
    if (outOfTime()) return finish('budget_exhausted', lastContent || 'out of time', `used the whole wall-clock budget of ${maxWallMs} ms before the tests could run`);
    const run = await runCommand(testCommand, {
      cwd: workspace,
      timeoutMs: Math.min(testTimeoutMs, remainingWall()),
      ...(baseline.size > 0 ? { maxOutputChars: TEST_OUTPUT_FOR_BASELINE } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    const output = run.spawnError !== undefined ? `could not start the test command: ${run.spawnError}` : run.output;
    const cleanPass = run.exitCode === 0 && !run.timedOut && !run.aborted;
    const judgement = !cleanPass && baseline.size > 0 ? judgeAgainstBaseline(run, baseline, baselineExitCode, workspace) : undefined;
    const exceptBaseline = judgement?.excused === true ? judgement.names : undefined;
    const passed = cleanPass || exceptBaseline !== undefined;
    const baselineNote = exceptBaseline !== undefined ? `passed except baseline failures: ${exceptBaseline.join(', ')}` : undefined;
    tests = {
      command: testCommand,
      exitCode: run.exitCode,
      passed,
      outputTail: tail(output, TEST_OUTPUT_TAIL),
      ...(exceptBaseline !== undefined ? { exceptBaseline } : {}),
    };
    await report({
      kind: 'tool',
      tool: 'tests',
      summary: truncate(
        `${testCommand.join(' ')}: ${baselineNote ?? (passed ? 'passed' : run.timedOut ? 'timed out' : `failed (exit ${run.exitCode ?? run.signal ?? '?'})`)}`,
        SUMMARY_MAX,
      ),
      ok: passed,
    });
    if (baselineNote !== undefined) return finish('succeeded', `${lastContent || 'done'} (tests ${baselineNote})`);
    if (passed) return finish('succeeded', lastContent || 'done; tests pass');
    if (options.signal?.aborted) return finish('failed', 'cancelled', 'the work was cancelled');
    // Declaring done over and over with the same failure is stuck even with other work between.
    const failure = withoutTimings(tests.outputTail);
    const seen = (failingTests.get(failure) ?? 0) + 1;
    failingTests.set(failure, seen);
    if (seen >= STUCK_DONE_REPEATS) {
      return finish('stuck', lastContent || 'the tests keep failing', `declared done ${STUCK_DONE_REPEATS} times with the same failing test output`);
    }
    const stuck = remember('declaring done', tests.outputTail);
    if (stuck !== undefined) return finish('stuck', lastContent || 'the tests keep failing', stuck);
    messages.push({
      role: 'user',
      content: [
        `The tests failed: ${JSON.stringify(testCommand)} ${run.timedOut ? 'timed out' : `exited with ${run.exitCode ?? run.signal}`}.`,
        ...(judgement?.excused === false ? [`Failures that already happened before your work are excused, but this run's are not: ${judgement.reason}.`] : []),
        'Output (end):',
        '```',
        tests.outputTail,
        '```',
        'Fix the problem, then reply without tool calls or edits when you are done.',
        // A model that wrote a whole file expecting it applied would otherwise not know why nothing changed.
        ...(!textEditFormats.includes(ReplyFormats.wholeFile) && hasNamedFencedBlock(content, known)
          ? ['Note: code blocks with a file name were not applied; change files with SEARCH/REPLACE blocks, a unified diff, or the tools.']
          : []),
      ].join('\n'),
    });
  }
}
