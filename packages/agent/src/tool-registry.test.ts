import { z } from 'zod';
import { createDefaultToolRegistry } from './default-tool-registry.js';
import { createToolRegistry, defineTool } from './tool-registry.js';

const echo = defineTool({
  name: 'echo',
  description: 'Repeats the text.',
  risk: 'read',
  input: z.object({ text: z.string().min(1), times: z.number().int().positive().default(1) }).strict(),
  run: async ({ text, times }) => ({ ok: true, output: text.repeat(times) }),
});
const explode = defineTool({
  name: 'explode',
  description: 'Always throws.',
  risk: 'exec',
  input: z.object({}),
  run: async () => {
    throw new Error('kaboom');
  },
});
const registry = createToolRegistry([echo, explode]);
const ctx = { workspace: '/nonexistent' };

describe('tool registry', () => {
  it('offers each tool with a JSON Schema of its arguments', () => {
    expect(registry.specs()[0]).toEqual({
      name: 'echo',
      description: 'Repeats the text.',
      parameters: {
        type: 'object',
        properties: { text: { type: 'string', minLength: 1 }, times: { type: 'integer', exclusiveMinimum: 0, maximum: 9007199254740991, default: 1 } },
        required: ['text'],
        additionalProperties: false,
      },
    });
    expect(createDefaultToolRegistry().specs().map((s) => s.name)).toEqual(['fs.read', 'fs.list', 'fs.write', 'fs.edit', 'fs.apply_patch', 'exec', 'git.commit']);
    expect(createDefaultToolRegistry().definitions().map((d) => d.risk)).toEqual(['read', 'read', 'write', 'write', 'write', 'exec', 'write']);
  });

  it('runs a valid call with defaults applied', async () => {
    expect(await registry.run({ id: '1', name: 'echo', argumentsJson: '{"text":"ab","times":2}' }, ctx)).toEqual({ ok: true, output: 'abab' });
    expect(await registry.run({ id: '1', name: 'echo', argumentsJson: '{"text":"ab"}' }, ctx)).toEqual({ ok: true, output: 'ab' });
  });

  it('answers an unknown tool with the list of tools', async () => {
    expect(await registry.run({ id: '1', name: 'rm', argumentsJson: '{}' }, ctx)).toEqual({
      ok: false,
      output: 'unknown tool "rm"; available tools: echo, explode',
    });
  });

  it('answers bad JSON, non-objects and bad values with what was wrong', async () => {
    const badJson = await registry.run({ id: '1', name: 'echo', argumentsJson: '{"text": "a",' }, ctx);
    expect(badJson.ok).toBe(false);
    expect(badJson.output).toMatch(/^arguments for echo are not valid JSON/);
    expect((await registry.run({ id: '1', name: 'echo', argumentsJson: '[1]' }, ctx)).output).toBe(
      'arguments for echo must be a JSON object, got an array',
    );
    const badValue = await registry.run({ id: '1', name: 'echo', argumentsJson: '{"text":"","times":"x","extra":1}' }, ctx);
    expect(badValue.ok).toBe(false);
    expect(badValue.output).toContain('invalid arguments for echo: ');
    expect(badValue.output).toContain('text: ');
    expect(badValue.output).toContain('times: ');
    expect(badValue.output).toContain('"extra"');
  });

  it('turns a throwing tool into a failed observation', async () => {
    expect(await registry.run({ id: '1', name: 'explode', argumentsJson: '' }, ctx)).toEqual({ ok: false, output: 'explode failed: kaboom' });
  });

  it('refuses duplicate tool names', () => {
    expect(() => createToolRegistry([echo, echo])).toThrow('tool echo is declared twice');
  });
});
