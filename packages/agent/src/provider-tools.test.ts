import { createToolNameMap, toGeminiSchema, toProviderToolName } from './provider-tools.js';

describe('provider tool names', () => {
  it('maps dotted names to provider-safe names and back', () => {
    expect(toProviderToolName('fs.apply_patch')).toBe('fs_apply_patch');
    expect(toProviderToolName('a.b:c d')).toBe('a_b_c_d');
    const names = createToolNameMap(['fs.read', 'exec', 'my-tool']);
    expect(names.toProvider('fs.read')).toBe('fs_read');
    expect(names.resolve('fs_read')).toBe('fs.read');
    expect(names.resolve('fs.read')).toBe('fs.read');
    expect(names.resolve('my-tool')).toBe('my-tool');
    expect(names.resolve('fs_write')).toBeUndefined();
  });

  it('refuses names that collide or cannot be made valid', () => {
    expect(() => createToolNameMap(['a.b', 'a_b'])).toThrow('tools "a.b" and "a_b" would both be offered as "a_b"');
    expect(() => createToolNameMap(['x'.repeat(65)])).toThrow(/cannot be offered to model providers/);
    expect(() => createToolNameMap(['-dash'])).toThrow(/"-dash" cannot be offered/);
  });
});

describe('toGeminiSchema', () => {
  it('rewrites what Gemini says differently and drops what it does not know', () => {
    expect(
      toGeminiSchema({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        additionalProperties: false,
        properties: {
          a: { type: ['string', 'null'], description: 'maybe', format: 'uri' },
          b: { const: 'only', type: 'string' },
          c: { oneOf: [{ type: 'string' }, { type: 'number', multipleOf: 2 }] },
          d: { anyOf: [{ type: 'integer', exclusiveMaximum: 10 }, { type: 'null' }] },
          e: { type: 'number', exclusiveMinimum: 0, format: 'double' },
          f: { type: 'array', items: { type: 'string', format: 'date-time' }, uniqueItems: true, maxItems: 3 },
          g: { type: ['string', 'integer'] },
          h: { enum: [1, 2] , type: 'integer' },
        },
        required: ['a'],
        patternProperties: { '^x': {} },
      }),
    ).toEqual({
      type: 'OBJECT',
      properties: {
        a: { type: 'STRING', nullable: true, description: 'maybe' },
        b: { type: 'STRING', enum: ['only'] },
        c: { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] },
        d: { type: 'INTEGER', maximum: 9, nullable: true },
        e: { type: 'NUMBER', format: 'double' },
        f: { type: 'ARRAY', items: { type: 'STRING', format: 'date-time' }, maxItems: 3 },
        g: { anyOf: [{ type: 'STRING' }, { type: 'INTEGER' }] },
        h: { type: 'INTEGER' },
      },
      required: ['a'],
    });
  });

  it('refuses $ref, which it cannot express', () => {
    expect(() => toGeminiSchema({ type: 'object', properties: { a: { $ref: '#/$defs/A' } } }, 'demo')).toThrow(
      'the schema of demo uses $ref at (parameters).a, which Gemini function declarations cannot express; inline it',
    );
  });
});
