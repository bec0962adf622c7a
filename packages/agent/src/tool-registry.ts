/**
 * The tool registry: each tool declared once (name, description, input schema, risk class),
 * its arguments validated before it runs, and every failure turned into an observation the
 * model can read — the registry never throws at the agent loop.
 */
import { z } from 'zod';
import { UnexpectedError } from '@maestro/runtime';
import type { JsonObject, ToolCall, ToolSpec } from '@maestro/llm';
import type { WriteGuard } from './write-guard.js';

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
  /** Environment handed (scrubbed) to commands. @default process.env */
  env?: Record<string, string | undefined>;
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
}

/** A tool as the registry holds it (arguments already validated when `run` is called). */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly risk: ToolRisk;
  /** Validates the arguments; also the source of the JSON Schema offered to the model. */
  readonly input: z.ZodType;
  run(args: unknown, context: ToolContext): Promise<ToolObservation>;
}

/**
 * Declares a tool with typed arguments: `run` receives the parsed output of `input`.
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
    // The registry only calls run with the result of `input.safeParse`, so the cast holds.
    run: (args, context) => definition.run(args as z.output<S>, context),
  };
}

/** A set of tools: their specs for the model, and a way to run a model's tool call. */
export interface ToolRegistry {
  /** The specs offered to the model, in declaration order. */
  specs(): ToolSpec[];
  /** The definitions, for policies that look at risk classes. */
  definitions(): readonly ToolDefinition[];
  /** Validates and runs one call; every failure comes back as `{ ok: false, output: <what was wrong> }`. */
  run(call: ToolCall, context: ToolContext): Promise<ToolObservation>;
}

function toJsonSchema(schema: z.ZodType): JsonObject {
  const json = z.toJSONSchema(schema, { io: 'input' }) as JsonObject;
  delete json.$schema;
  return json;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length === 0 ? '(arguments)' : issue.path.map(String).join('.')}: ${issue.message}`)
    .join('; ');
}

/** Builds a registry over `tools`; throws `UnexpectedError` on a duplicate name (a programming mistake). */
export function createToolRegistry(tools: readonly ToolDefinition[]): ToolRegistry {
  const byName = new Map<string, ToolDefinition>();
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new UnexpectedError('DUPLICATE_TOOL', `tool ${tool.name} is declared twice`);
    byName.set(tool.name, tool);
  }
  const specs: ToolSpec[] = tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    parameters: toJsonSchema(tool.input),
  }));

  return {
    specs: () => specs.map((spec) => ({ ...spec })),
    definitions: () => [...tools],
    async run(call, context) {
      const tool = byName.get(call.name);
      if (tool === undefined) {
        return { ok: false, output: `unknown tool "${call.name}"; available tools: ${[...byName.keys()].join(', ')}` };
      }
      let args: unknown;
      try {
        args = call.argumentsJson.trim() === '' ? {} : JSON.parse(call.argumentsJson);
      } catch (err) {
        return {
          ok: false,
          output: `arguments for ${tool.name} are not valid JSON (${(err as Error).message}); send one JSON object matching the tool's parameters`,
        };
      }
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        return { ok: false, output: `arguments for ${tool.name} must be a JSON object, got ${Array.isArray(args) ? 'an array' : typeof args}` };
      }
      const parsed = tool.input.safeParse(args);
      if (!parsed.success) {
        return { ok: false, output: `invalid arguments for ${tool.name}: ${describeIssues(parsed.error)}` };
      }
      if (context.signal?.aborted) return { ok: false, output: `${tool.name} was not run: the work was cancelled` };
      try {
        return await tool.run(parsed.data, context);
      } catch (err) {
        return { ok: false, output: `${tool.name} failed: ${err instanceof Error ? err.message : String(err)}` };
      }
    },
  };
}
