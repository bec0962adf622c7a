/**
 * The tool specs in the shapes the model providers take: OpenAI's `tools` (also DeepSeek, vLLM,
 * Ollama and every other OpenAI-compatible endpoint) and Gemini's `functionDeclarations`, with
 * tool names made acceptable to both and a way back from the provider's name to ours.
 */
import { UnexpectedError } from '@maestro/runtime';
import type { JsonObject, ToolSpec } from '@maestro/llm';

/** One entry of OpenAI's chat-completions `tools` array. */
export interface OpenAiTool {
  type: 'function';
  function: { name: string; description: string; parameters: JsonObject };
}

/** One entry of Gemini's `tools[].functionDeclarations`; `parameters` is Gemini's OpenAPI-subset schema. */
export interface GeminiFunctionDeclaration {
  name: string;
  description: string;
  parameters: JsonObject;
}

/**
 * What both OpenAI (`^[a-zA-Z0-9_-]{1,64}$`) and Gemini (which also wants a letter or `_`
 * first) accept as a function name; our names (`fs.read`) are mapped into it.
 */
const PROVIDER_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * The name a provider sees for a tool: every character outside `[A-Za-z0-9_-]` becomes `_`
 * (`fs.read` → `fs_read`, `git.commit` → `git_commit`). The mapping is not reversible on its
 * own; {@link createToolNameMap} checks a set of tools maps without collisions and reverses it.
 */
export function toProviderToolName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Both directions of the name mapping for one set of tools. */
export interface ToolNameMap {
  /** Our name → the provider's (`fs.read` → `fs_read`). */
  toProvider(name: string): string;
  /**
   * The tool a name from a provider means: the provider name (`fs_read`) or our own (`fs.read`,
   * from a model that copied it from a prompt) both resolve; anything else is undefined.
   */
  resolve(name: string): string | undefined;
}

/**
 * Builds the name mapping for `names`, throwing `UnexpectedError` when two tools would get the
 * same provider name (`fs.read` and `fs_read`) or a name cannot be made valid (too long, starts
 * with a digit): both are mistakes in the tool declarations, found when the registry is built.
 */
export function createToolNameMap(names: readonly string[]): ToolNameMap {
  const forward = new Map<string, string>();
  const backward = new Map<string, string>();
  for (const name of names) {
    const provider = toProviderToolName(name);
    if (!PROVIDER_NAME.test(provider)) {
      throw new UnexpectedError(
        'INVALID_TOOL_NAME',
        `tool name ${JSON.stringify(name)} cannot be offered to model providers: as "${provider}" it must match ${PROVIDER_NAME.source}`,
      );
    }
    const taken = backward.get(provider);
    if (taken !== undefined && taken !== name) {
      throw new UnexpectedError('TOOL_NAME_COLLISION', `tools ${JSON.stringify(taken)} and ${JSON.stringify(name)} would both be offered as "${provider}"`);
    }
    forward.set(name, provider);
    backward.set(provider, name);
  }
  return {
    toProvider: (name) => forward.get(name) ?? toProviderToolName(name),
    resolve: (name) => (forward.has(name) ? name : backward.get(name)),
  };
}

/** The specs as OpenAI `tools`, names mapped (`fs_read`); the schema is JSON Schema as declared. */
export function toOpenAiTools(specs: readonly ToolSpec[], names: ToolNameMap = createToolNameMap(specs.map((s) => s.name))): OpenAiTool[] {
  return specs.map((spec) => ({
    type: 'function',
    function: { name: names.toProvider(spec.name), description: spec.description, parameters: structuredClone(spec.parameters) },
  }));
}

/** The specs as Gemini `functionDeclarations`, names mapped and schemas cut down by {@link toGeminiSchema}. */
export function toGeminiFunctionDeclarations(
  specs: readonly ToolSpec[],
  names: ToolNameMap = createToolNameMap(specs.map((s) => s.name)),
): GeminiFunctionDeclaration[] {
  return specs.map((spec) => ({
    name: names.toProvider(spec.name),
    description: spec.description,
    parameters: toGeminiSchema(spec.parameters, spec.name),
  }));
}

/** Keywords of Gemini's `Schema` (a subset of OpenAPI 3.0) kept as they are, besides the ones rewritten below. */
const GEMINI_KEPT = new Set([
  'title',
  'description',
  'nullable',
  'required',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
  'minimum',
  'maximum',
  'pattern',
  'default',
  'example',
  'propertyOrdering',
]);
/** `format` values Gemini knows, by type; any other format is dropped. */
const GEMINI_FORMATS: Record<string, readonly string[]> = {
  string: ['enum', 'date-time'],
  integer: ['int32', 'int64'],
  number: ['float', 'double'],
};
const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A JSON Schema cut down to what Gemini's function-declaration `parameters` accept (its
 * OpenAPI 3.0 subset), so a declaration is never refused for a keyword:
 * - kept: `type` (upper case, as Gemini's `Type` enum spells it), `properties`, `items`,
 *   `anyOf`, `required`, `enum` (string values only), `nullable`, `title`, `description`,
 *   `default`, `example`, `propertyOrdering`, `minimum`/`maximum`, `minLength`/`maxLength`,
 *   `minItems`/`maxItems`, `minProperties`/`maxProperties`, `pattern`, and `format` where
 *   Gemini knows it (`enum`, `date-time`, `int32`, `int64`, `float`, `double`);
 * - rewritten: `type: [T, "null"]` (or `anyOf` with a `null` branch) → `type: T, nullable: true`;
 *   `type: [T, U]` → `anyOf: [{type: T}, {type: U}]`; `const: v` → `enum: [v]`;
 *   `oneOf` → `anyOf`; on integers `exclusiveMinimum: n` → `minimum: n + 1` and
 *   `exclusiveMaximum: n` → `maximum: n - 1` (exact for integers);
 * - dropped: everything else, notably `$schema`, `$id`, `$comment`, `$defs`/`definitions`,
 *   `additionalProperties`, `patternProperties`, `propertyNames`, `unevaluatedProperties`,
 *   `allOf`, `not`, `if`/`then`/`else`, `dependentRequired`/`dependentSchemas`,
 *   `prefixItems`, `contains`, `uniqueItems`, `multipleOf`, `examples`, `readOnly`/`writeOnly`,
 *   `deprecated`, `contentEncoding`/`contentMediaType`, exclusive bounds on non-integers,
 *   non-string enums and unknown formats.
 * Dropped keywords only loosen what the model is told; the registry still validates every
 * call against the full schema. A `$ref` cannot be expressed at all and throws `UnexpectedError`
 * (`toolName` names the tool in the message).
 */
export function toGeminiSchema(schema: JsonObject, toolName = 'tool'): JsonObject {
  const convert = (node: JsonObject, at: string): JsonObject => {
    if ('$ref' in node) {
      throw new UnexpectedError('UNSUPPORTED_TOOL_SCHEMA', `the schema of ${toolName} uses $ref at ${at}, which Gemini function declarations cannot express; inline it`);
    }
    const out: JsonObject = {};
    let type: string | undefined;
    if (typeof node.type === 'string') type = node.type;
    else if (Array.isArray(node.type)) {
      const types = node.type.filter((t): t is string => typeof t === 'string');
      const nonNull = types.filter((t) => t !== 'null');
      if (nonNull.length === 1) type = nonNull[0];
      // Several types (`["string", "number"]`) become alternatives, Gemini having no type arrays.
      else if (nonNull.length > 1) out.anyOf = nonNull.filter((t) => JSON_TYPES.has(t)).map((t) => ({ type: t.toUpperCase() }));
      if (types.includes('null')) out.nullable = true;
    }
    if (type !== undefined && JSON_TYPES.has(type)) out.type = type.toUpperCase();

    for (const [key, value] of Object.entries(node)) {
      if (GEMINI_KEPT.has(key)) out[key] = structuredClone(value);
    }
    if (typeof node.format === 'string' && type !== undefined && GEMINI_FORMATS[type]?.includes(node.format)) out.format = node.format;

    const enumValues = Array.isArray(node.enum) ? node.enum : 'const' in node ? [node.const] : undefined;
    if (enumValues !== undefined && enumValues.every((v) => typeof v === 'string')) out.enum = [...enumValues];

    if (type === 'integer') {
      if (typeof node.exclusiveMinimum === 'number') {
        const min = node.exclusiveMinimum + 1;
        out.minimum = typeof out.minimum === 'number' ? Math.max(out.minimum, min) : min;
      }
      if (typeof node.exclusiveMaximum === 'number') {
        const max = node.exclusiveMaximum - 1;
        out.maximum = typeof out.maximum === 'number' ? Math.min(out.maximum, max) : max;
      }
    }

    if (isObject(node.properties)) {
      out.properties = Object.fromEntries(
        Object.entries(node.properties).map(([name, child]) => [name, isObject(child) ? convert(child, `${at}.${name}`) : {}]),
      );
    }
    if (isObject(node.items)) out.items = convert(node.items, `${at}[]`);
    const alternatives = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
    if (alternatives !== undefined) {
      // `T | null` is written as anyOf [T, {type: null}]; Gemini says that with `nullable`.
      const isNull = (alt: JsonObject): boolean => alt.type === 'null';
      const kept = alternatives.filter(isObject);
      if (kept.some(isNull)) out.nullable = true;
      const converted = kept.filter((alt) => !isNull(alt)).map((alt, i) => convert(alt, `${at}|${i}`));
      if (converted.length === 1 && converted[0] !== undefined) return { ...converted[0], ...out };
      if (converted.length > 1) out.anyOf = converted;
    }
    return out;
  };
  return convert(schema, '(parameters)');
}
