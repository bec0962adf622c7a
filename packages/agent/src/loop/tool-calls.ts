/**
 * Running one tool call, native or written in the text: checked against the budget first,
 * run through the registry, its effects (files changed, a commit) collected, reported as a
 * `tool` step (with its arguments, its whole observation and how long it ran) and recorded for
 * stuck detection.
 */
import type { ToolCall } from '@maestro/llm';
import type { ToolObservation, ToolRegistry } from '../tool-registry.js';
import type { LoopRun } from './loop-run.js';
import { truncate } from './step-text.js';
import { callKey } from './stuck-detector.js';

/** A call's answer, and why the run is stuck now, if it is. */
export interface ToolCallOutcome {
  observation: ToolObservation;
  stuck?: string;
}

/**
 * Runs one call (native or from the text), records it, and returns its observation and any
 * stuck reason. A call that may not run any more (cancelled, out of time) is answered without
 * running, so every call the model made still gets an answer.
 */
export async function runToolCall(run: LoopRun, tools: ToolRegistry, call: ToolCall): Promise<ToolCallOutcome> {
  const halt = run.haltReason();
  if (halt !== undefined) {
    const observation = { ok: false, output: `${call.name} was not run: ${halt}.` };
    await run.report({
      kind: 'tool',
      tool: call.name,
      summary: truncate(`${callKey(call)} → ${observation.output}`),
      ok: false,
      arguments: call.argumentsJson,
      observation: observation.output,
    });
    return { observation };
  }
  const startedAt = run.settings.clock.now();
  const observation = await tools.run(call, run.toolContext());
  const durationMs = Math.max(0, run.settings.clock.now() - startedAt);
  observation.effects?.filesChanged?.forEach((f) => run.reportedFiles.add(f));
  if (observation.effects?.commitSha !== undefined) run.commitSha = observation.effects.commitSha;
  await run.report({
    kind: 'tool',
    tool: call.name,
    summary: truncate(`${callKey(call)} → ${observation.output}`),
    ok: observation.ok,
    durationMs,
    arguments: call.argumentsJson,
    observation: observation.output,
    ...(observation.flags?.length ? { flags: observation.flags } : {}),
  });
  const stuck = run.stuck.remember(callKey(call), observation.output);
  return stuck === undefined ? { observation } : { observation, stuck };
}

/**
 * Runs a reply's native calls in order, answering each with a `tool` message in the history;
 * stops at the first call after which the run is stuck, and returns why.
 */
export async function runNativeCalls(run: LoopRun, tools: ToolRegistry, calls: readonly ToolCall[]): Promise<string | undefined> {
  for (const call of calls) {
    const { observation, stuck } = await runToolCall(run, tools, call);
    run.history.push({ role: 'tool', toolCallId: call.id, name: call.name, content: observation.output });
    if (stuck !== undefined) return stuck;
  }
  return undefined;
}
