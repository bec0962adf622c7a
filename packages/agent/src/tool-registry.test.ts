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
const tag = defineTool({
  name: 'notes.tag',
  description: 'Tags a note.',
  risk: 'write',
  input: z.object({ id: z.string(), tags: z.array(z.string()).min(1), mode: z.enum(['add', 'remove']).default('add'), meta: z.object({ by: z.string() }).strict().optional() }).strict(),
  run: async ({ id, tags, mode }) => ({ ok: true, output: `${mode} ${tags.join(',')} on ${id}` }),
});
const registry = createToolRegistry([echo, explode, tag]);
const ctx = { workspace: '/nonexistent' };
const run = (name: string, argumentsJson: string) => registry.run({ id: '1', name, argumentsJson }, ctx);

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
    expect(createDefaultToolRegistry().specs().map((s) => s.name)).toEqual([
      'fs.read',
      'fs.list',
      'fs.search',
      'fs.write',
      'fs.edit',
      'fs.apply_patch',
      'exec',
      'git.status',
      'git.diff',
      'git.commit',
    ]);
    expect(createDefaultToolRegistry().definitions().map((d) => d.risk)).toEqual(['read', 'read', 'read', 'write', 'write', 'write', 'exec', 'read', 'read', 'write']);
  });

  it('runs a valid call with defaults applied', async () => {
    expect(await run('echo', '{"text":"ab","times":2}')).toEqual({ ok: true, output: 'abab' });
    expect(await run('echo', '{"text":"ab"}')).toEqual({ ok: true, output: 'ab' });
    expect(await run('notes.tag', '{"id":"n1","tags":["a","b"]}')).toEqual({ ok: true, output: 'add a,b on n1' });
  });

  it('answers an unknown tool with the list of tools', async () => {
    expect(await run('rm', '{}')).toEqual({ ok: false, output: 'unknown tool "rm"; available tools: echo, explode, notes.tag' });
  });

  it('names every wrong argument, as ajv found it', async () => {
    expect(await run('echo', '{"text":5}')).toEqual({ ok: false, output: 'invalid arguments for echo: text: must be string' });
    expect(await run('echo', '{}')).toEqual({ ok: false, output: 'invalid arguments for echo: text: is required' });
    expect(await run('echo', '{"text":"","times":"x","extra":1}')).toEqual({
      ok: false,
      output:
        'invalid arguments for echo: extra: is not a parameter of echo (parameters: text, times); text: must NOT have fewer than 1 characters; times: must be integer',
    });
    expect(await run('notes.tag', '{"id":"n1","tags":["a",2],"mode":"toggle","meta":{"by":"me","at":1}}')).toEqual({
      ok: false,
      output: 'invalid arguments for notes.tag: tags[1]: must be string; mode: must be one of "add", "remove"; meta.at: is not allowed here',
    });
  });

  it('repairs malformed JSON arguments, runs the call and tells the model; unrepairable JSON is explained', async () => {
    const repaired = await run('echo', "{'text': 'ab', times: 2,}");
    expect(repaired).toEqual({
      ok: true,
      output: 'abab\n[note: the arguments were not valid JSON; they were repaired and read as {"text":"ab","times":2}. Send strict JSON next time.]',
    });
    // Truncated output (a model cut off mid-call) is closed and run.
    expect((await run('echo', '{"text": "a",')).output).toMatch(/^a\n\[note: the arguments were not valid JSON/);
    const broken = await run('echo', '{"text" ]');
    expect(broken.ok).toBe(false);
    expect(broken.output).toMatch(/^arguments for echo: the arguments are not valid JSON: Colon expected at line 1, column 9:\n/);
    expect((await run('echo', '[1]')).output).toMatch(/^arguments for echo: the arguments must be a JSON object with the tool's parameters as keys, got an array/);
    expect(await run('explode', '')).toEqual({ ok: false, output: 'explode failed: kaboom' });
  });

  it('turns a throwing tool into a failed observation', async () => {
    expect(await run('explode', '{}')).toEqual({ ok: false, output: 'explode failed: kaboom' });
  });

  it('refuses declarations it could not enforce or offer: duplicates, refinements, transforms, colliding names', () => {
    expect(() => createToolRegistry([echo, echo])).toThrow('tool echo is declared twice');
    const refined = defineTool({
      name: 'refined',
      description: 'x',
      risk: 'read',
      input: z.object({ a: z.number(), b: z.number() }).refine((v) => v.a < v.b),
      run: async () => ({ ok: true, output: '' }),
    });
    expect(() => createToolRegistry([refined])).toThrow(
      'the input of tool refined uses a refinement (.refine / .superRefine) at (arguments), which JSON Schema cannot express, so ajv would not enforce it; check it in run() instead',
    );
    const trimmed = defineTool({ name: 'trimmed', description: 'x', risk: 'read', input: z.object({ m: z.string().trim() }), run: async () => ({ ok: true, output: '' }) });
    expect(() => createToolRegistry([trimmed])).toThrow(/uses a value rewrite \(\.trim\(\), \.toLowerCase\(\), \.overwrite\(\) …\) at m/);
    const transformed = defineTool({
      name: 'transformed',
      description: 'x',
      risk: 'read',
      input: z.object({ n: z.string().transform((s) => s.length) }),
      run: async () => ({ ok: true, output: '' }),
    });
    expect(() => createToolRegistry([transformed])).toThrow(/the input of tool transformed uses .*Transforms cannot be represented in JSON Schema/);
    const underscore = defineTool({ ...echo, name: 'notes_tag' });
    expect(() => createToolRegistry([tag, underscore])).toThrow('tools "notes.tag" and "notes_tag" would both be offered as "notes_tag"');
    expect(() => createToolRegistry([defineTool({ ...echo, name: '9lives' })])).toThrow(/tool name "9lives" cannot be offered to model providers/);
  });
});

describe('provider exports', () => {
  const tools = createDefaultToolRegistry();

  it('exports OpenAI tools with names providers accept, and resolves them back', async () => {
    const openAi = tools.toOpenAiTools();
    expect(openAi.map((t) => t.function.name)).toEqual(['fs_read', 'fs_list', 'fs_search', 'fs_write', 'fs_edit', 'fs_apply_patch', 'exec', 'git_status', 'git_diff', 'git_commit']);
    for (const t of openAi) expect(t.function.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(openAi[0]).toEqual({
      type: 'function',
      function: { name: 'fs_read', description: tools.specs()[0]?.description, parameters: tools.specs()[0]?.parameters },
    });
    expect(tools.resolveToolName('fs_apply_patch')).toBe('fs.apply_patch');
    expect(tools.resolveToolName('fs.read')).toBe('fs.read');
    expect(tools.resolveToolName('exec')).toBe('exec');
    expect(tools.resolveToolName('fs-read')).toBeUndefined();
    // A call that comes back under the provider's name runs the tool.
    expect(await registry.run({ id: '1', name: 'notes_tag', argumentsJson: '{"id":"n","tags":["x"]}' }, ctx)).toEqual({ ok: true, output: 'add x on n' });
  });

  it('exports Gemini function declarations in Gemini\'s schema subset', () => {
    const gemini = createToolRegistry([echo, tag]).toGeminiFunctionDeclarations();
    expect(gemini).toEqual([
      {
        name: 'echo',
        description: 'Repeats the text.',
        parameters: {
          type: 'OBJECT',
          properties: { text: { type: 'STRING', minLength: 1 }, times: { type: 'INTEGER', minimum: 1, maximum: 9007199254740991, default: 1 } },
          required: ['text'],
        },
      },
      {
        name: 'notes_tag',
        description: 'Tags a note.',
        parameters: {
          type: 'OBJECT',
          properties: {
            id: { type: 'STRING' },
            tags: { type: 'ARRAY', items: { type: 'STRING' }, minItems: 1 },
            mode: { type: 'STRING', enum: ['add', 'remove'], default: 'add' },
            meta: { type: 'OBJECT', properties: { by: { type: 'STRING' } }, required: ['by'] },
          },
          required: ['id', 'tags'],
        },
      },
    ]);
    const keywords = new Set<string>();
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (typeof node === 'object' && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          keywords.add(key);
          if (key === 'properties') Object.values(value as object).forEach(collect);
          else collect(value);
        }
      }
    };
    tools.toGeminiFunctionDeclarations().forEach((d) => collect(d.parameters));
    expect([...keywords].filter((k) => ['$schema', 'additionalProperties', 'exclusiveMinimum', 'exclusiveMaximum', 'const', 'oneOf'].includes(k))).toEqual([]);
  });
});
