/**
 * The tool registry: each tool declared once (name, description, input schema, risk class),
 * its arguments validated by ajv against the JSON Schema the model is shown before it runs,
 * the same tools exported for OpenAI and Gemini, and every failure turned into an observation
 * the model can read — the registry never throws at the agent loop.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { z } from 'zod';
import { UnexpectedError } from '@maestro/runtime';
import type { JsonObject, ToolCall, ToolSpec } from '@maestro/llm';
import { parseToolArguments } from './json-repair/parse-tool-arguments.js';
import {
  createToolNameMap,
  toGeminiFunctionDeclarations,
  toOpenAiTools,
  type GeminiFunctionDeclaration,
  type OpenAiTool,
} from './provider-tools.js';
import type { Sandbox } from './sandbox/sandbox.js';
import type { WriteGuard } from './write-guard.js';
import { flagCiConfigChanges } from './ci-review-flag.js';
import type { StepFlag } from './protected-paths.js';

/** How much harm a tool can do; later policies (approval, sandboxing) key on it. */
export const ToolRisks = {
  /** Only reads the workspace. */
  read: 'read',
  /** Changes files or git state in the workspace. */
  write: 'write',
  /** Runs a program. */
  exec: 'exec',
} as const;
/** One of {@link ToolRisks}. */
export type ToolRisk = (typeof ToolRisks)[keyof typeof ToolRisks];

/** What a tool may use while it runs. */
export interface ToolContext {
  /** Absolute path of the repository root the agent works in. */
  workspace: string;
  /** Called by write tools before they change anything (locks). */
  writeGuard?: WriteGuard;
  /** Aborting stops running commands and further tools. */
  signal?: AbortSignal;
  /** Upper bound for one `exec` call. @default 120000 */
  execTimeoutMs?: number;
  /**
   * Variables handed to commands as they are, on top of the allow-listed part of the executor's
   * environment (`PATH`, `HOME`, `LANG`, `LC_*` … see `scrubEnvironment`). @default {}
   */
  env?: Record<string, string | undefined>;
  /**
   * Confines the programs `exec` runs (the workspace is their worktree). @default none: they run
   * with `runCommand`'s hygiene only; the executor always passes one
   */
  sandbox?: Sandbox;
  /** The directory sandboxed commands may write (the worktree's top, `workspace` or above it). @default workspace */
  worktree?: string;
  /**
   * Workspace-relative files this agent has changed so far (the loop keeps the list). With it,
   * `git.commit` without paths commits only these, not every change in the work tree: other
   * agents may be editing the same repository at the same time.
   */
  changedFiles?: readonly string[];
}

/** What the loop learns from a tool besides its text: the files it changed, the commit it made. */
export interface ToolEffects {
  /** Workspace-relative paths written. */
  filesChanged?: string[];
  /** The commit created. */
  commitSha?: string;
}

/** A tool's answer, shown to the model. Errors are observations with `ok: false`, never throws. */
export interface ToolObservation {
  ok: boolean;
  output: string;
  effects?: ToolEffects;
  /** Marks for a person (e.g. `ci-config-changed`, see `StepFlags`), carried onto the call's step. */
  flags?: StepFlag[];
}

/** A tool as the registry holds it (arguments already validated when `run` is called). */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly risk: ToolRisk;
  /**
   * The arguments, declared once: the registry turns it into the JSON Schema offered to the
   * model and validates calls against that schema with ajv. Only what JSON Schema can say is
   * allowed (no `.refine`, `.transform`, `.trim()`…): a rule the schema cannot carry would be
   * neither shown to the model nor enforced, so `createToolRegistry` refuses it; check such
   * rules in `run` instead.
   */
  readonly input: z.ZodType;
  run(args: unknown, context: ToolContext): Promise<ToolObservation>;
}

/**
 * Declares a tool with typed arguments: `run` receives the arguments as ajv accepted them,
 * with the schema's defaults filled in (which is what `z.output` of a refinement-free schema
 * describes).
 *
 * @example
 * const echo = defineTool({
 *   name: 'echo', description: 'Repeats the text.', risk: 'read',
 *   input: z.object({ text: z.string() }),
 *   run: async ({ text }) => ({ ok: true, output: text }),
 * });
 */
export function defineTool<S extends z.ZodType>(definition: {
  name: string;
  description: string;
  risk: ToolRisk;
  input: S;
  run(args: z.output<S>, context: ToolContext): Promise<ToolObservation>;
}): ToolDefinition {
  return {
    name: definition.name,
    description: definition.description,
    risk: definition.risk,
    input: definition.input,
    // The registry only calls run with arguments that passed the schema generated from `input`
    // (defaults applied), and refuses inputs with rules the schema cannot carry, so the cast holds.
    run: (args, context) => definition.run(args as z.output<S>, context),
  };
}

/** A set of tools: their specs for the model, the same for each provider, and a way to run a model's tool call. */
export interface ToolRegistry {
  /** The specs offered to the model, in declaration order (our names, e.g. `fs.read`). */
  specs(): ToolSpec[];
  /** The definitions, for policies that look at risk classes. */
  definitions(): readonly ToolDefinition[];
  /** The tools as OpenAI (and OpenAI-compatible) `tools`, names mapped to `fs_read` style. */
  toOpenAiTools(): OpenAiTool[];
  /** The tools as Gemini `functionDeclarations`, names mapped and schemas cut to Gemini's subset (see `toGeminiSchema`). */
  toGeminiFunctionDeclarations(): GeminiFunctionDeclaration[];
  /**
   * The registered tool a name from a tool call means: a provider name (`fs_read`) or ours
   * (`fs.read`); undefined when there is no such tool.
   */
  resolveToolName(name: string): string | undefined;
  /**
   * Validates and runs one call (its name resolved with `resolveToolName`, malformed JSON
   * arguments repaired); every failure comes back as `{ ok: false, output: <what was wrong> }`.
   */
  run(call: ToolCall, context: ToolContext): Promise<ToolObservation>;
}

/** Zod check kinds that change or judge a value beyond what JSON Schema says. */
const UNREPRESENTABLE_CHECKS: Record<string, string> = {
  custom: 'a refinement (.refine / .superRefine)',
  overwrite: 'a value rewrite (.trim(), .toLowerCase(), .overwrite() …)',
};

/**
 * The JSON Schema (draft-07) of a tool's arguments, or an `UnexpectedError` when the zod
 * declaration holds a rule JSON Schema cannot express: ajv would not enforce it.
 */
function toJsonSchema(tool: ToolDefinition): JsonObject {
  const problems: string[] = [];
  const json = z.toJSONSchema(tool.input, {
    io: 'input',
    target: 'draft-7',
    override: ({ zodSchema, path }) => {
      const def = zodSchema._zod.def as { type: string; checks?: Array<{ _zod: { def: { check: string } } }> };
      const at = path.filter((p) => p !== 'properties').join('.') || '(arguments)';
      if (def.type === 'transform') problems.push(`a transform at ${at}`);
      for (const check of def.checks ?? []) {
        const what = UNREPRESENTABLE_CHECKS[check._zod.def.check];
        if (what !== undefined) problems.push(`${what} at ${at}`);
      }
    },
  }) as JsonObject;
  try {
    // The input side of a `.transform` renders fine; the output side shows it is there.
    z.toJSONSchema(tool.input, { io: 'output' });
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  if (problems.length > 0) {
    throw new UnexpectedError(
      'UNREPRESENTABLE_TOOL_INPUT',
      `the input of tool ${tool.name} uses ${problems.join('; ')}, which JSON Schema cannot express, so ajv would not enforce it; check it in run() instead`,
    );
  }
  delete json.$schema;
  return json;
}

/** `argv[0]`, `path`, `options.depth` — an ajv instance path as the model wrote the arguments. */
function argumentPath(instancePath: string): string {
  if (instancePath === '') return '';
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === '' ? part : `${path}.${part}`), '');
}

/** One line per problem, naming the argument: `path: must be string`, `extra: is not a parameter of fs.read (parameters: …)`. */
function describeAjvErrors(errors: readonly ErrorObject[], tool: string, parameters: readonly string[]): string {
  const lines = errors.map((error) => {
    const at = argumentPath(error.instancePath);
    const join = (name: string): string => (at === '' ? name : `${at}.${name}`);
    switch (error.keyword) {
      case 'required':
        return `${join(String(error.params.missingProperty))}: is required`;
      case 'additionalProperties': {
        const name = String(error.params.additionalProperty);
        return at === ''
          ? `${name}: is not a parameter of ${tool} (parameters: ${parameters.join(', ')})`
          : `${join(name)}: is not allowed here`;
      }
      case 'enum':
        return `${at || '(arguments)'}: must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      case 'const':
        return `${at || '(arguments)'}: must be ${JSON.stringify(error.params.allowedValue)}`;
      default:
        return `${at || '(arguments)'}: ${error.message ?? error.keyword}`;
    }
  });
  return [...new Set(lines)].join('; ');
}

/**
 * Builds a registry over `tools`. Throws `UnexpectedError` for mistakes in the declarations,
 * found here rather than when a model calls: a duplicate name, a name no provider accepts or
 * two names providers would confuse (`fs.read`, `fs_read`), an input with rules JSON Schema
 * cannot express, or a schema ajv refuses.
 */
export function createToolRegistry(tools: readonly ToolDefinition[]): ToolRegistry {
  const byName = new Map<string, ToolDefinition>();
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new UnexpectedError('DUPLICATE_TOOL', `tool ${tool.name} is declared twice`);
    byName.set(tool.name, tool);
  }
  const names = createToolNameMap([...byName.keys()]);
  const specs: ToolSpec[] = tools.map((tool) => ({ name: tool.name, description: tool.description, parameters: toJsonSchema(tool) }));
  // One ajv per registry: `useDefaults` fills in declared defaults, `allErrors` lets one answer
  // name every wrong argument, and strict mode turns a schema ajv does not understand into an
  // error here instead of a silently skipped keyword.
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
  const validators = new Map<string, { validate: ValidateFunction; parameters: string[] }>();
  for (const spec of specs) {
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(structuredClone(spec.parameters));
    } catch (err) {
      throw new UnexpectedError('INVALID_TOOL_SCHEMA', `the schema of tool ${spec.name} does not compile: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const properties = spec.parameters.properties;
    validators.set(spec.name, { validate, parameters: typeof properties === 'object' && properties !== null ? Object.keys(properties) : [] });
  }

  return {
    specs: () => specs.map((spec) => ({ ...spec, parameters: structuredClone(spec.parameters) })),
    definitions: () => [...tools],
    toOpenAiTools: () => toOpenAiTools(specs, names),
    toGeminiFunctionDeclarations: () => toGeminiFunctionDeclarations(specs, names),
    resolveToolName: (name) => names.resolve(name),
    async run(call, context) {
      const resolved = names.resolve(call.name);
      const tool = resolved === undefined ? undefined : byName.get(resolved);
      const validator = resolved === undefined ? undefined : validators.get(resolved);
      if (tool === undefined || validator === undefined) {
        return { ok: false, output: `unknown tool "${call.name}"; available tools: ${[...byName.keys()].join(', ')}` };
      }
      const parsed = parseToolArguments(call.argumentsJson);
      if (!parsed.ok) return { ok: false, output: `arguments for ${tool.name}: ${parsed.message}` };
      const args = parsed.value;
      // What the model sent, before ajv fills in defaults: what the repair note must show.
      const asRead = parsed.repaired ? truncateJson(args) : '';
      if (!validator.validate(args)) {
        return { ok: false, output: `invalid arguments for ${tool.name}: ${describeAjvErrors(validator.validate.errors ?? [], tool.name, validator.parameters)}` };
      }
      if (context.signal?.aborted) return { ok: false, output: `${tool.name} was not run: the work was cancelled` };
      let observation: ToolObservation;
      try {
        // Every file tool reports what it changed; CI configuration among it is flagged here, once for all.
        observation = flagCiConfigChanges(await tool.run(args, context));
      } catch (err) {
        return { ok: false, output: `${tool.name} failed: ${err instanceof Error ? err.message : String(err)}` };
      }
      if (!parsed.repaired) return observation;
      // Say so, or the model keeps sending broken JSON and one day it is repaired wrongly.
      return { ...observation, output: `${observation.output}\n[note: the arguments were not valid JSON; they were repaired and read as ${asRead}. Send strict JSON next time.]` };
    },
  };
}

function truncateJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
}
