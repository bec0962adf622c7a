/**
 * The scripted provider: replays replies from a JSON script, deterministically and offline, for
 * tests, demos and CI. It never pretends to be a model: every result says `scripted: true`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '@maestro/runtime';
import { assistantTurns } from './condensed-turns.js';
import type { ChatProvider, CompletionRequest, CompletionResult, CompletionStreamEvent } from './chat-provider.js';
import { FinishReasons, type ChatMessage, type ToolCall } from './messages.js';
import { countMessageTokens, countTokens, o200kCounter } from './token-counter.js';

const ScriptToolCallSchema = z
  .object({
    name: z.string().min(1, 'a tool call needs a name'),
    arguments: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

const ScriptTurnSchema = z
  .object({
    content: z.string().optional(),
    toolCalls: z.array(ScriptToolCallSchema).optional(),
    /**
     * How the reply ends, when not the usual (`tool_calls` with tool calls, `stop` without): a
     * script can replay what a provider answers for a call it could not parse (`malformed_tool_call`,
     * Gemini's MALFORMED_FUNCTION_CALL) or for an answer cut at the output limit (`length`).
     */
    finishReason: z.enum([FinishReasons.stop, FinishReasons.toolCalls, FinishReasons.length, FinishReasons.malformedToolCall]).optional(),
  })
  .strict()
  .refine((turn) => (turn.content ?? '') !== '' || (turn.toolCalls ?? []).length > 0, {
    message: 'a turn needs non-empty content or at least one tool call',
  });

const ScriptRuleSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'a rule name is letters, digits, "_", "." or "-" (it goes into tool call ids)'),
    when: z
      .object({
        intent: z.string().min(1).optional(),
        contains: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    turns: z.array(ScriptTurnSchema).min(1, 'a rule needs at least one turn'),
  })
  .strict();

/**
 * The schema of a script file (see packages/llm/README.md). Rule names must be unique, since
 * they appear in errors and in tool call ids.
 */
export const ScriptSchema = z
  .object({
    description: z.string().optional(),
    rules: z.array(ScriptRuleSchema).min(1, 'a script needs at least one rule'),
  })
  .strict()
  .superRefine((script, ctx) => {
    const seen = new Map<string, number>();
    script.rules.forEach((rule, i) => {
      const first = seen.get(rule.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name "${rule.name}" (also rules[${first}])`,
        });
      } else {
        seen.set(rule.name, i);
      }
    });
  });

/** A parsed, valid script. */
export type Script = z.infer<typeof ScriptSchema>;
/** One rule of a {@link Script}. */
export type ScriptRule = Script['rules'][number];

/** Describes where a zod issue sits in terms a script author recognises: rule name and turn number. */
function describeIssuePath(raw: unknown, path: ReadonlyArray<PropertyKey>): string {
  const parts: string[] = [];
  let rest = [...path];
  if (rest[0] === 'rules' && typeof rest[1] === 'number') {
    const index = rest[1];
    const rules = (raw as { rules?: unknown[] } | null)?.rules;
    const name = (rules?.[index] as { name?: unknown } | undefined)?.name;
    parts.push(typeof name === 'string' && name !== '' ? `rule "${name}" (rules[${index}])` : `rules[${index}]`);
    rest = rest.slice(2);
    if (rest[0] === 'turns' && typeof rest[1] === 'number') {
      parts.push(`turn ${rest[1]}`);
      rest = rest.slice(2);
    }
  }
  if (rest.length > 0) {
    parts.push(rest.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join(''));
  }
  return parts.length === 0 ? '(top level)' : parts.join(', ');
}

/**
 * Validates a script object; throws a `UserError` (`SCRIPT_INVALID`) listing every problem
 * with the rule and turn at fault. `source` (a file path) is named in the message.
 */
export function parseScript(raw: unknown, source = 'script'): Script {
  const parsed = ScriptSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  - ${describeIssuePath(raw, issue.path)}: ${issue.message}`);
  throw new UserError('SCRIPT_INVALID', `script ${source} is invalid:\n${problems.join('\n')}`, {
    details: { source, problems },
  });
}

/** Reads and validates a script file; a missing file, bad JSON or bad rule is a `UserError` naming the file. */
export function loadScript(path: string): Script {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError('SCRIPT_NOT_FOUND', `script ${path} cannot be read: ${(err as Error).message}`, {
      reason: 'not_found',
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError('SCRIPT_INVALID', `script ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseScript(raw, path);
}

function describeRule(rule: ScriptRule): string {
  const conditions: string[] = [];
  if (rule.when.intent !== undefined) conditions.push(`intent ${rule.when.intent}`);
  if (rule.when.contains !== undefined) conditions.push(`contains ${JSON.stringify(rule.when.contains)}`);
  return conditions.length === 0 ? `${rule.name} (always)` : `${rule.name} (${conditions.join(', ')})`;
}

/** Splits text into at most `parts` pieces of whole code points (so no emoji is cut in half). */
function splitIntoChunks(text: string, parts: number): string[] {
  const points = Array.from(text);
  if (points.length === 0) return [];
  const size = Math.ceil(points.length / parts);
  const chunks: string[] = [];
  for (let i = 0; i < points.length; i += size) chunks.push(points.slice(i, i + size).join(''));
  return chunks;
}

/** How many content deltas a scripted stream emits (at most). */
const STREAM_CHUNKS = 3;

/**
 * Replays a {@link Script}. The reply is turn *n* of the first rule whose `when` matches
 * (intent equal, `contains` found in any message's content), where *n* is the number of
 * assistant turns already in the conversation (`assistantTurns`: a condensed summary counts as
 * the turns it folded): stateless, so any router replica gives the same reply. Usage is counted with `o200k_base`; cost is always 0.
 */
export class ScriptedProvider implements ChatProvider {
  readonly name = 'scripted';

  constructor(
    readonly script: Script,
    /** Where the script came from, for error messages. */
    readonly source = 'script',
  ) {}

  /** Loads and validates a script file (see {@link loadScript}). */
  static fromFile(path: string): ScriptedProvider {
    return new ScriptedProvider(loadScript(path), path);
  }

  /** The rule that answers `request`, or a `UserError` (`SCRIPT_NO_MATCH`) listing the rules. */
  matchRule(request: Pick<CompletionRequest, 'messages' | 'intent'>): ScriptRule {
    const rule = this.script.rules.find(
      (r) =>
        (r.when.intent === undefined || r.when.intent === request.intent) &&
        (r.when.contains === undefined || request.messages.some((m) => m.content.includes(r.when.contains as string))),
    );
    if (rule !== undefined) return rule;
    throw new UserError(
      'SCRIPT_NO_MATCH',
      `no rule of script ${this.source} matches intent "${request.intent ?? ''}" and this conversation; rules: ${this.script.rules.map(describeRule).join('; ')}`,
      { reason: 'precondition', details: { scripted: true, intent: request.intent, rules: this.script.rules.map((r) => r.name) } },
    );
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const rule = this.matchRule(request);
    // A condensed conversation says how many turns its summary stands for (see condensed-turns.ts).
    const turnIndex = assistantTurns(request.messages);
    const turn = rule.turns[turnIndex];
    if (turn === undefined) {
      throw new UserError(
        'SCRIPT_EXHAUSTED',
        `script exhausted for rule ${rule.name} at turn ${turnIndex}: the rule has ${rule.turns.length} turn(s) and the conversation already holds ${turnIndex} assistant message(s) (script ${this.source})`,
        { reason: 'precondition', details: { scripted: true, rule: rule.name, turn: turnIndex } },
      );
    }
    const toolCalls: ToolCall[] = (turn.toolCalls ?? []).map((call, i) => ({
      id: `call_${rule.name}_${turnIndex}_${i}`,
      name: call.name,
      argumentsJson: JSON.stringify(call.arguments),
    }));
    const message: ChatMessage = { role: 'assistant', content: turn.content ?? '' };
    if (toolCalls.length > 0) message.toolCalls = toolCalls;
    const outputTokens =
      countTokens(message.content) +
      toolCalls.reduce((sum, call) => sum + countTokens(call.name) + countTokens(call.argumentsJson), 0);
    return {
      message,
      usage: {
        inputTokens: countMessageTokens(request.messages) + o200kCounter.countToolTokens(request.tools),
        outputTokens,
      },
      finishReason: turn.finishReason ?? (toolCalls.length > 0 ? FinishReasons.toolCalls : FinishReasons.stop),
      scripted: true,
    };
  }

  /** The same reply as {@link complete}, its content split into a few deltas, then the final result. */
  async *stream(request: CompletionRequest): AsyncIterable<CompletionStreamEvent> {
    const result = await this.complete(request);
    for (const content of splitIntoChunks(result.message.content, STREAM_CHUNKS)) {
      yield { type: 'delta', content };
    }
    yield { type: 'final', result };
  }
}
