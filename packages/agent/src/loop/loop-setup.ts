/**
 * What a run sets up before its first turn: the tools the model sees (the caller's plus
 * `context.pin`), the system prompt (with the files in scope, the preferences and the recalled
 * memories that fit their budget), the opening history, the pinned facts given from outside, and
 * the condenser that turns the history into each turn's request.
 */
import type { RecalledMemory } from '@maestro/contracts';
import type { ToolSpec } from '@maestro/llm';
import { Condenser } from '../context/condenser.js';
import type { ModelContext } from '../context/context-policy.js';
import { PinnedFactKinds, type Summariser } from '../context/context-types.js';
import { PinnedFacts } from '../context/pinned-facts.js';
import type { ToolRegistry } from '../tool-registry.js';
import { AgentPins } from './agent-pins.js';
import { modelContextOf } from './loop-options.js';
import type { LoopRun } from './loop-run.js';
import { renderMemories } from './memory-prompt.js';
import type { TurnContext } from './model-turn.js';
import { withPinTool } from './pin-tool.js';
import { truncate } from './step-text.js';
import { defaultSystemPrompt, scopeSection } from './system-prompt.js';

/** A run, ready for its first turn. */
export interface LoopSetup {
  /** The caller's tools plus `context.pin`. */
  tools: ToolRegistry;
  specs: ToolSpec[];
  /** The pinned facts: found in the history by the condenser, plus those the loop pins. */
  facts: PinnedFacts;
  /** Derives each turn's request from the history. */
  context: TurnContext;
}

/** The memory kind whose content is a preference: pinned as well as put in the prompt. */
const PREFERENCE_KIND = 'preference';

/**
 * Sets the run up (see the module comment) and reports the `recall` step (when memories were
 * given) before any model turn.
 */
export async function setUpLoop(run: LoopRun): Promise<LoopSetup> {
  const { options, testCommand, textEditFormats, pinnedFiles, preferences, modelContext } = run.settings;
  const facts = new PinnedFacts();
  const tools = withPinTool(options.tools, new AgentPins(facts, () => run.history.length));
  const specs = tools.specs();
  const memories = renderMemories(run.settings.memories, run.settings.memoryTokenBudget);
  const systemPrompt = [options.systemPrompt ?? defaultSystemPrompt(testCommand, specs, textEditFormats), scopeSection(pinnedFiles, preferences), memories.section]
    .filter((part) => part !== '')
    .join('\n\n');
  run.history.push({ role: 'system', content: systemPrompt }, { role: 'user', content: options.task });
  pinGivenFacts(run, facts, memories.used);
  if (run.settings.memories.length > 0) await reportRecall(run, memories.used);

  // A model summariser sends older turns to a model too: redacted, as every request is.
  const given = options.context?.summariser;
  const summariser: Summariser | undefined =
    given === undefined ? undefined : { by: given.by, summarise: (messages, summariseOptions) => given.summarise(run.redacted(messages), summariseOptions) };
  const condenserFor = (model: ModelContext): Condenser =>
    new Condenser({
      policy: model.policy,
      counting: model.counting,
      tokenCounter: model.tokenCounter,
      ...(summariser !== undefined ? { summariser } : {}),
    });
  let condenser = condenserFor(modelContext);
  // The executor does not know which model the router will pick; the first reply says. Its
  // window and tokenizer apply from then on (a first request is rarely big enough to have been
  // condensed; if it was, the next request is condensed afresh under the new policy). A scripted reply names no real model: the default stays.
  let modelKnown = options.context?.model !== undefined;
  const context: TurnContext = {
    view: (history, viewOptions) => condenser.view(history, facts, viewOptions),
    answeredBy(reply) {
      if (modelKnown) return;
      modelKnown = true;
      if (reply.scripted) return;
      try {
        condenser = condenserFor(modelContextOf(options.context, `${reply.provider}:${reply.model}`));
      } catch {
        // The caller's overrides do not fit this model's window: keep the policy they were checked against.
      }
    },
  };
  return { tools, specs, facts, context };
}

/** Files in scope and preferences (given, and recalled ones that went into the prompt): all in the system prompt, message 0. */
function pinGivenFacts(run: LoopRun, facts: PinnedFacts, used: readonly RecalledMemory[]): void {
  for (const file of run.settings.pinnedFiles) facts.pin(PinnedFactKinds.file, file, 0);
  for (const preference of run.settings.preferences) facts.pin(PinnedFactKinds.preference, preference, 0);
  for (const memory of used) if (memory.kind === PREFERENCE_KIND) facts.pin(PinnedFactKinds.preference, memory.content, 0);
}

/** The `recall` step: exactly the memories that went into the prompt, and how many the budget left out. */
async function reportRecall(run: LoopRun, used: RecalledMemory[]): Promise<void> {
  const { memories, memoryTokenBudget } = run.settings;
  const left = memories.length - used.length;
  const kinds = used.map((memory) => memory.kind);
  const byKind = [...new Set(kinds)].map((kind) => `${kinds.filter((k) => k === kind).length} ${kind}`).join(', ');
  await run.report({
    kind: 'recall',
    summary: truncate(
      used.length === 0
        ? `${memories.length} memories recalled; none fit the prompt's budget of ${memoryTokenBudget} tokens`
        : `${used.length} memories in the prompt (${byKind})${left > 0 ? `; ${left} left out by the budget of ${memoryTokenBudget} tokens` : ''}`,
    ),
    ok: true,
    recalled: used,
  });
}
