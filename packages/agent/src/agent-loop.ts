/**
 * The tactical agent loop: check the budget, condense the history into this turn's request, ask
 * the model, dispatch its reply (native tool calls; or, in its text, edits and JSON tool calls;
 * or "done"), and on "done" let the repository's tests give the verdict, feeding failures back
 * until the tests pass, the budget runs out, or the agent goes round in circles. The parts live
 * in `loop/`: options and defaults, the run's state, setup (tools, prompt, memories, pinned
 * facts, the condenser), the model turn, tool calls, text replies, the test gate, stuck detection
 * and git changes.
 */
import type { WorkStepModelCall } from '@maestro/contracts';
import { FinishReasons } from '@maestro/llm';
import type { ChatModelReply } from './chat-model.js';
import { PinnedFactKinds } from './context/context-types.js';
import type { AgentVerdict } from './loop/agent-step.js';
import { resolveLoopOptions, type RunAgentLoopOptions } from './loop/loop-options.js';
import { LoopRun, type LoopEnd } from './loop/loop-run.js';
import { setUpLoop, type LoopSetup } from './loop/loop-setup.js';
import { takeModelTurn } from './loop/model-turn.js';
import { truncate } from './loop/step-text.js';
import { runTestGate } from './loop/test-gate.js';
import { handleMalformedToolCall, handleTextReply } from './loop/text-reply.js';
import { runNativeCalls } from './loop/tool-calls.js';

export { AgentStepKinds, type AgentStep, type AgentStepKind, type AgentVerdict, type RecoveredFrom } from './loop/agent-step.js';
export { DEFAULT_TEXT_EDIT_FORMATS, LoopDefaults, type AgentBudget, type AgentContextOptions, type RunAgentLoopOptions, type TextEditFormat } from './loop/loop-options.js';
export { defaultSystemPrompt } from './loop/system-prompt.js';

/**
 * Runs the agent loop until a verdict. Each turn sends the request the condenser derives from
 * the conversation (the whole conversation while it fits the model's policy) and the tool specs
 * (the caller's plus `context.pin`). Native tool calls are run and answered with `tool` messages.
 * A reply without native calls is read as text: JSON tool calls in it are run and edit blocks
 * (SEARCH/REPLACE, unified diff, whole file) applied, all answered in one user message; a reply
 * whose edits or calls cannot be read gets the parser's message and the loop goes on, and so does
 * a reply whose finish reason is `malformed_tool_call` (the provider could not parse the tool call
 * the model made; nothing in that reply is run or applied). A reply
 * with none of these means "done", so the test command runs: exit 0 is success (with the test
 * run as evidence), and so is a failure only in tests named in `baselineFailures` (every failure
 * named, all of them in the baseline, the exit code the baseline's when `baselineExitCode` is
 * given; the verdict says "passed except baseline failures: …"); anything else is fed back and
 * the loop goes on within budget. The same (action, observation) three times in a row, two of
 * them alternating three times, or the same failing test output after "done" twice ends the run
 * as `stuck`. A provider's `CONTEXT_TOO_LONG` condenses the request and retries once. Never
 * throws for model or tool failures; they end in a verdict. Throws `INVALID_ARGUMENT` for a
 * `baselineExitCode` that is not a failing exit code (1–255), a negative `memoryTokenBudget` or a
 * `context.policy` that cannot work.
 */
export async function runAgentLoop(options: RunAgentLoopOptions): Promise<AgentVerdict> {
  const run = await LoopRun.start(resolveLoopOptions(options));
  const setup = await setUpLoop(run);
  for (;;) {
    const over = budgetEnd(run);
    if (over !== undefined) return run.finish(over);
    // Condense the history into this turn's request, then ask the model (once more on CONTEXT_TOO_LONG).
    const turn = await takeModelTurn(run, setup.context, setup.specs);
    if (turn.kind === 'end') return run.finish(turn.end);
    const dispatched = await dispatch(run, setup, turn.reply, turn.durationMs);
    if (dispatched.kind === 'end') return run.finish(dispatched.end);
    if (dispatched.kind === 'done') {
      const verdict = await judge(run, setup, turn.reply.message.content, dispatched.knownPaths);
      if (verdict !== undefined) return run.finish(verdict);
    }
  }
}

/** Why the run may not take another turn (cancelled, out of turns, time or tokens), or undefined. */
function budgetEnd(run: LoopRun): LoopEnd | undefined {
  const { maxSteps, maxWallMs, maxTokens } = run.settings;
  if (run.cancelled()) return run.cancelledEnd();
  if (run.steps >= maxSteps) return { status: 'budget_exhausted', summary: run.lastContent || 'out of steps', reason: `used all ${maxSteps} model turns without passing tests` };
  if (run.outOfTime()) return { status: 'budget_exhausted', summary: run.lastContent || 'out of time', reason: `used the whole wall-clock budget of ${maxWallMs} ms` };
  if (run.tokensSpent() >= maxTokens) return { status: 'budget_exhausted', summary: run.lastContent || 'out of tokens', reason: `used ${run.tokensSpent()} of ${maxTokens} tokens` };
  return undefined;
}

/** What a reply led to: another turn, the end of the run (stuck), or "done" for the tests to judge. */
type Dispatched = { kind: 'next' } | { kind: 'end'; end: LoopEnd } | { kind: 'done'; knownPaths: string[] };

/** Records the reply (`durationMs`: how long its call took) and acts on it: native calls, else the text (edits, JSON calls), else "done". */
async function dispatch(run: LoopRun, setup: LoopSetup, reply: ChatModelReply, durationMs: number): Promise<Dispatched> {
  run.steps += 1;
  run.addUsage(reply.usage);
  // A malformed tool call is a parse error, whatever else the reply holds: no call of it runs, and
  // none stays in the history, where a call without its answer would break the next request.
  const malformed = reply.finishReason === FinishReasons.malformedToolCall;
  const { toolCalls, ...withoutCalls } = reply.message;
  run.history.push(malformed ? withoutCalls : reply.message);
  const calls = malformed ? [] : (toolCalls ?? []);
  const content = reply.message.content;
  if (content.trim() !== '') run.lastContent = content.trim();
  await run.report({
    kind: 'model',
    summary: truncate(
      `${reply.scripted ? '[scripted] ' : ''}${reply.provider}/${reply.model}: ${content || '(no text)'}${calls.length > 0 ? ` → ${calls.map((c) => c.name).join(', ')}` : ''}${malformed ? ' [malformed tool call]' : ''}`,
    ),
    ok: true,
    scripted: reply.scripted,
    modelCall: toModelCall(reply),
    durationMs,
  });

  if (malformed) {
    const answered = await handleMalformedToolCall(run, content);
    return answered.kind === 'stuck' ? { kind: 'end', end: run.stuckEnd(answered.reason) } : { kind: 'next' };
  }
  if (calls.length > 0) {
    const stuck = await runNativeCalls(run, setup.tools, calls);
    return stuck === undefined ? { kind: 'next' } : { kind: 'end', end: run.stuckEnd(stuck) };
  }
  const text = await handleTextReply(run, setup.tools, content);
  if (text.kind === 'stuck') return { kind: 'end', end: run.stuckEnd(text.reason) };
  return text.kind === 'continue' ? { kind: 'next' } : { kind: 'done', knownPaths: text.knownPaths };
}

/** A turn's call as its `model` step records it; a scripted reply's provider is `scripted`, whatever served it. */
function toModelCall(reply: ChatModelReply): WorkStepModelCall {
  return {
    provider: reply.scripted ? 'scripted' : reply.provider,
    model: reply.model,
    scripted: reply.scripted,
    inputTokens: reply.usage.inputTokens,
    cachedInputTokens: reply.usage.cachedInputTokens ?? 0,
    outputTokens: reply.usage.outputTokens,
    reasoningTokens: reply.usage.reasoningTokens ?? 0,
    usd: reply.cost?.priced === true ? reply.cost.usd : 0,
    priced: reply.cost?.priced ?? false,
  };
}

/**
 * The model says it is done: the tests decide. Returns how the run ends, or undefined when the
 * failure went back to the model (its failing tests and messages pinned).
 */
async function judge(run: LoopRun, setup: LoopSetup, content: string, knownPaths: readonly string[]): Promise<LoopEnd | undefined> {
  const gate = await runTestGate(run, content, knownPaths);
  if (gate.kind === 'end') return gate.end;
  for (const name of gate.failingTests) setup.facts.pin(PinnedFactKinds.failingTest, name, gate.seenAt);
  for (const failure of gate.failureMessages) setup.facts.pin(PinnedFactKinds.failingTest, failure, gate.seenAt);
  return undefined;
}
