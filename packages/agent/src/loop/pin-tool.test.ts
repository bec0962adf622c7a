import { createDefaultToolRegistry } from '../default-tool-registry.js';
import { createToolRegistry, defineTool } from '../tool-registry.js';
import { z } from 'zod';
import { PIN_MAX_CHARS, PIN_MAX_FACTS, PIN_TOOL_NAME, withPinTool, type AgentPinSink } from './pin-tool.js';

function sink(): AgentPinSink & { facts: string[] } {
  const facts: string[] = [];
  return { facts, agentPins: () => facts, pin: (fact) => void facts.push(fact) };
}

const call = (fact: unknown, name = PIN_TOOL_NAME) => ({ id: 'c1', name, argumentsJson: JSON.stringify({ fact }) });
const ctx = { workspace: '/nonexistent' };

describe('withPinTool', () => {
  it('offers context.pin after the registry\'s own tools and answers it, under either name', async () => {
    const pins = sink();
    const tools = withPinTool(createDefaultToolRegistry(), pins);
    expect(tools.specs().at(-1)?.name).toBe(PIN_TOOL_NAME);
    expect(tools.toOpenAiTools().at(-1)?.function.name).toBe('context_pin');
    expect(tools.resolveToolName('context_pin')).toBe(PIN_TOOL_NAME);
    expect(await tools.run(call('Only src/ may change.'), ctx)).toEqual({ ok: true, output: `pinned (1 of ${PIN_MAX_FACTS}): Only src/ may change.` });
    expect(await tools.run(call('Only src/ may change.', 'context_pin'), ctx)).toEqual({ ok: true, output: 'already pinned: Only src/ may change.' });
    expect(pins.facts).toEqual(['Only src/ may change.']);
    // Other calls still reach the registry.
    expect((await tools.run({ id: 'c2', name: 'fs.read', argumentsJson: '{}' }, ctx)).output).toBe('invalid arguments for fs.read: path: is required');
  });

  it('refuses a fact that is blank, too long or one too many, as an observation', async () => {
    const pins = sink();
    const tools = withPinTool(createDefaultToolRegistry(), pins);
    expect(await tools.run(call('   '), ctx)).toEqual({ ok: false, output: 'fact: must not be blank' });
    expect((await tools.run(call('x'.repeat(PIN_MAX_CHARS + 1)), ctx)).output).toMatch(/^invalid arguments for context\.pin: fact: must NOT have more than 300 characters/);
    for (let i = 0; i < PIN_MAX_FACTS; i++) expect((await tools.run(call(`fact ${i}`), ctx)).ok).toBe(true);
    expect(await tools.run(call('one more'), ctx)).toMatchObject({ ok: false, output: expect.stringContaining(`${PIN_MAX_FACTS} facts are pinned already`) });
    expect(pins.facts).toHaveLength(PIN_MAX_FACTS);
  });

  it('refuses a registry that already has a tool of that name', () => {
    const own = defineTool({ name: 'context_pin', description: 'mine', risk: 'read', input: z.object({}), run: async () => ({ ok: true, output: '' }) });
    expect(() => withPinTool(createToolRegistry([own]), sink())).toThrow(/already has a tool named context\.pin/);
  });
});
