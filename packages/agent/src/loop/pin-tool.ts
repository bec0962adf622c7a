/**
 * The built-in `context.pin` tool: the agent pins a fact it must not lose when older turns are
 * condensed (a constraint it found, a decision, a finding). Pinned facts are kept verbatim in
 * every request. The loop adds the tool to whatever registry it was given (`withPinTool`), so
 * the model sees it among its tools and calls it like any other.
 */
import { z } from 'zod';
import { UnexpectedError } from '@maestro/runtime';
import { DEFAULT_PINNED_FACT_LIMITS, PINNED_FACT_MAX_CHARS } from '../context/pinned-facts.js';
import { createToolRegistry, defineTool, ToolRisks, type ToolRegistry } from '../tool-registry.js';

/** The pin tool's name. */
export const PIN_TOOL_NAME = 'context.pin';
/** Characters one pinned fact may have: a fact, not a file (the pinned facts' own limit, so a pin is never cut). */
export const PIN_MAX_CHARS = PINNED_FACT_MAX_CHARS;
/** Facts the agent may pin in one run, so pins cannot crowd out the work (as many as the pinned facts keep of its kind). */
export const PIN_MAX_FACTS = DEFAULT_PINNED_FACT_LIMITS.agent.first + DEFAULT_PINNED_FACT_LIMITS.agent.last;

/** Where the pin tool keeps what the agent pins (the loop's pinned facts). */
export interface AgentPinSink {
  /** Facts the agent pinned so far. */
  agentPins(): readonly string[];
  /** Keeps `fact` verbatim from now on. */
  pin(fact: string): void;
}

/** The `context.pin` tool over `sink`: bounded length and count; a repeat is answered, not stored twice. */
export function createPinTool(sink: AgentPinSink) {
  return defineTool({
    name: PIN_TOOL_NAME,
    description:
      `Pins a fact you must not lose (a constraint, a decision, a finding) so it is kept word for word in every later request, ` +
      `even after older turns are summarised. At most ${PIN_MAX_FACTS} facts of ${PIN_MAX_CHARS} characters each.`,
    risk: ToolRisks.read,
    input: z.object({ fact: z.string().min(1).max(PIN_MAX_CHARS).describe('The fact, in one or two sentences.') }).strict(),
    run: async ({ fact }) => {
      const text = fact.trim();
      if (text === '') return { ok: false, output: 'fact: must not be blank' };
      const pinned = sink.agentPins();
      if (pinned.includes(text)) return { ok: true, output: `already pinned: ${text}` };
      const count = pinned.length;
      if (count >= PIN_MAX_FACTS) {
        return { ok: false, output: `not pinned: ${PIN_MAX_FACTS} facts are pinned already, the most one run may pin; keep the work going without it.` };
      }
      sink.pin(text);
      return { ok: true, output: `pinned (${count + 1} of ${PIN_MAX_FACTS}): ${text}` };
    },
  });
}

/**
 * `registry` plus `context.pin`: its spec is offered after the registry's own, and a call to it
 * (as `context.pin` or the provider name `context_pin`) is answered by the pin tool; every other
 * call goes to `registry`. Throws `UnexpectedError` `DUPLICATE_TOOL` when `registry` already has a
 * tool of that name (or the same provider name).
 */
export function withPinTool(registry: ToolRegistry, sink: AgentPinSink): ToolRegistry {
  const pins = createToolRegistry([createPinTool(sink)]);
  const pinName = (name: string): boolean => pins.resolveToolName(name) !== undefined;
  if (registry.resolveToolName(PIN_TOOL_NAME) !== undefined || registry.resolveToolName(PIN_TOOL_NAME.replace('.', '_')) !== undefined) {
    throw new UnexpectedError('DUPLICATE_TOOL', `the tool registry already has a tool named ${PIN_TOOL_NAME}, which the agent loop adds itself`);
  }
  return {
    specs: () => [...registry.specs(), ...pins.specs()],
    definitions: () => [...registry.definitions(), ...pins.definitions()],
    toOpenAiTools: () => [...registry.toOpenAiTools(), ...pins.toOpenAiTools()],
    toGeminiFunctionDeclarations: () => [...registry.toGeminiFunctionDeclarations(), ...pins.toGeminiFunctionDeclarations()],
    resolveToolName: (name) => registry.resolveToolName(name) ?? pins.resolveToolName(name),
    run: (call, context) => (registry.resolveToolName(call.name) === undefined && pinName(call.name) ? pins.run(call, context) : registry.run(call, context)),
  };
}
