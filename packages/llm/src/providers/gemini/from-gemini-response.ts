/**
 * Gemini responses → our {@link CompletionResult}. One accumulator serves both calls: a
 * `generateContent` response is one chunk, a `streamGenerateContent` stream is many, and the
 * same rules apply to both: visible text joined, `thought: true` parts kept apart as reasoning,
 * function calls assembled (including Vertex `partialArgs` / `willContinue` pieces), thought
 * signatures carried, usage from the latest `usageMetadata`, the finish reason mapped.
 */
import { FakeServerHeaders, SCRIPTED_REPLY } from '../../fake-server-headers.js';
import { createHash } from 'node:crypto';
import type { FunctionCall, GenerateContentResponse, GenerateContentResponseUsageMetadata, Part, PartialArg } from '@google/genai';
import type { CompletionResult } from '../../chat-provider.js';
import { FinishReasons, type ChatMessage, type FinishReason, type ToolCall, type Usage } from '../../messages.js';
import { ProviderErrorCodes } from '../../provider-errors.js';
import { geminiError } from './gemini-errors.js';

/** The fields of a Gemini response the adapter reads (the SDK class, or a plain object in tests). */
export type GeminiResponseLike = Pick<
  GenerateContentResponse,
  'candidates' | 'promptFeedback' | 'usageMetadata' | 'responseId' | 'sdkHttpResponse'
>;


/** Finish reasons that mean the model (or its filters) refused: raised as `MODEL_REFUSED`. */
const REFUSALS: Readonly<Record<string, string>> = {
  SAFETY: 'the answer was blocked by safety filters',
  RECITATION: 'the answer was blocked for reciting copyrighted material',
  PROHIBITED_CONTENT: 'the answer was blocked for prohibited content',
  BLOCKLIST: 'the answer contained blocklisted terms',
  SPII: 'the answer contained sensitive personal information',
  LANGUAGE: 'the answer was in an unsupported language',
  IMAGE_SAFETY: 'the answer was blocked by image safety filters',
  IMAGE_PROHIBITED_CONTENT: 'the answer was blocked for prohibited image content',
  IMAGE_RECITATION: 'the answer was blocked for reciting an image',
};

/** Finish reasons that mean the model wrote a tool call we cannot run: a result the agent may retry. */
const MALFORMED_TOOL_CALL = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS']);

/** The content of a `malformed_tool_call` result when Gemini gave no message of its own. */
export const MALFORMED_TOOL_CALL_MESSAGE =
  'The tool call could not be parsed (Gemini stopped with a malformed function call). Write the tool call again with valid JSON arguments.';

/** A function call being assembled from one or more parts. */
interface PendingCall {
  id?: string;
  name: string;
  args: Record<string, unknown>;
  thoughtSignature?: string;
  /** JSON paths whose string value continues in the next partial argument. */
  openStrings: Set<string>;
}

/** Options of an accumulation. */
export interface AccumulatorOptions {
  /** The API key, scrubbed from refusal messages (which quote nothing, but stay safe). */
  apiKey: string;
}

/**
 * Collects Gemini response chunks into one result. `add` returns the visible text a chunk adds
 * (a stream's delta) and throws `MODEL_REFUSED` as soon as a chunk is blocked; `finish` builds
 * the result once the response (or stream) is complete.
 */
export class GeminiResponseAccumulator {
  private content = '';
  private reasoning = '';
  private textSignature: string | undefined;
  private readonly calls: PendingCall[] = [];
  private openCall: PendingCall | undefined;
  private readonly answered: Array<{ id?: string; name?: string }> = [];
  private finishReason: string | undefined;
  private finishMessage: string | undefined;
  private usage: GenerateContentResponseUsageMetadata | undefined;
  private responseId: string | undefined;
  private scripted = false;
  /** How many chunks were added. */
  chunks = 0;

  constructor(private readonly options: AccumulatorOptions) {}

  /** Adds one response or stream chunk; returns the visible (non-thought) text it carried. */
  add(response: GeminiResponseLike): string {
    this.chunks += 1;
    if (response.sdkHttpResponse?.headers?.[FakeServerHeaders.reply] === SCRIPTED_REPLY) this.scripted = true;
    if (response.responseId !== undefined) this.responseId = response.responseId;
    if (response.usageMetadata !== undefined) this.usage = response.usageMetadata;
    const blockReason = response.promptFeedback?.blockReason;
    if (blockReason !== undefined) {
      const said = response.promptFeedback?.blockReasonMessage;
      throw geminiError(
        ProviderErrorCodes.refused,
        `Gemini refused the prompt (block reason ${blockReason})${said === undefined ? '' : `: ${said}`}; rephrase the request`,
        { finishReason: String(blockReason), blockReason: String(blockReason) },
        this.options,
      );
    }
    const candidate = response.candidates?.[0];
    if (candidate === undefined) return '';
    if (candidate.finishReason !== undefined) this.finishReason = String(candidate.finishReason);
    if (candidate.finishMessage !== undefined) this.finishMessage = candidate.finishMessage;
    const refusal = this.finishReason === undefined ? undefined : REFUSALS[this.finishReason];
    if (refusal !== undefined) {
      throw geminiError(
        ProviderErrorCodes.refused,
        `Gemini refused to answer (finish reason ${this.finishReason}: ${refusal}); rephrase the request`,
        { finishReason: this.finishReason },
        this.options,
      );
    }
    let delta = '';
    for (const part of candidate.content?.parts ?? []) delta += this.addPart(part);
    return delta;
  }

  private addPart(part: Part): string {
    if (part.functionCall !== undefined) {
      this.addFunctionCall(part.functionCall, part.thoughtSignature);
      return '';
    }
    // A signature on text, on an empty text part or on a thought goes back on the text part.
    if (part.thoughtSignature !== undefined) this.textSignature = part.thoughtSignature;
    if (part.functionResponse !== undefined) {
      // A call the server already ran (server-side MCP tools): not one for us to run.
      this.answered.push({
        ...(part.functionResponse.id === undefined ? {} : { id: part.functionResponse.id }),
        ...(part.functionResponse.name === undefined ? {} : { name: part.functionResponse.name }),
      });
      return '';
    }
    if (typeof part.text !== 'string') return '';
    if (part.thought === true) {
      this.reasoning += part.text;
      return '';
    }
    this.content += part.text;
    return part.text;
  }

  /**
   * A part with a name starts a call; a part without one continues the open call (Vertex
   * streams a call as `{name, willContinue}`, then `{partialArgs, willContinue}` pieces, then
   * `{}`); `willContinue` keeps the call open for the next part.
   */
  private addFunctionCall(fc: FunctionCall, signature: string | undefined): void {
    const named = fc.name !== undefined && fc.name !== '';
    let call = named ? undefined : this.openCall;
    if (call === undefined) {
      this.openCall = undefined;
      if (!named && fc.args === undefined && (fc.partialArgs ?? []).length === 0) return;
      call = { name: fc.name ?? '', args: {}, openStrings: new Set() };
      this.calls.push(call);
    }
    if (fc.id !== undefined && call.id === undefined) call.id = fc.id;
    if (signature !== undefined && call.thoughtSignature === undefined) call.thoughtSignature = signature;
    if (fc.args !== undefined) Object.assign(call.args, fc.args);
    for (const partial of fc.partialArgs ?? []) applyPartialArg(call, partial);
    this.openCall = fc.willContinue === true ? call : undefined;
  }

  /**
   * The result of the whole response. `streamed` says whether it came from a stream: a stream
   * that ends without a finish reason was cut short (`PROVIDER_STREAM_INTERRUPTED`), a response
   * with nothing usable is malformed (`PROVIDER_MALFORMED_RESPONSE`).
   */
  finish(streamed: boolean): CompletionResult {
    const toolCalls = this.toolCalls();
    if (this.chunks === 0) {
      throw geminiError(ProviderErrorCodes.malformedResponse, 'Gemini answered 200 with no response in the stream', {}, this.options);
    }
    if (this.finishReason === undefined) {
      if (streamed) {
        throw geminiError(
          ProviderErrorCodes.streamInterrupted,
          'the Gemini stream ended before the model finished (no finish reason arrived)',
          { chunks: this.chunks },
          this.options,
        );
      }
      if (this.content === '' && toolCalls.length === 0) {
        throw geminiError(
          ProviderErrorCodes.malformedResponse,
          'Gemini answered 200 with no usable candidate (no text, no function call, no finish reason)',
          {},
          this.options,
        );
      }
    }
    const message: ChatMessage = { role: 'assistant', content: this.content };
    let finishReason: FinishReason;
    if (this.finishReason !== undefined && MALFORMED_TOOL_CALL.has(this.finishReason)) {
      finishReason = FinishReasons.malformedToolCall;
      if (message.content === '') message.content = this.finishMessage ?? MALFORMED_TOOL_CALL_MESSAGE;
    } else {
      if (toolCalls.length > 0) message.toolCalls = toolCalls;
      finishReason =
        this.finishReason === 'MAX_TOKENS'
          ? FinishReasons.length
          : toolCalls.length > 0
            ? FinishReasons.toolCalls
            : FinishReasons.stop;
    }
    if (this.reasoning !== '') message.reasoning = this.reasoning;
    if (this.textSignature !== undefined) message.thoughtSignature = this.textSignature;
    return { message, usage: toUsage(this.usage), finishReason, scripted: this.scripted };
  }

  /** The assembled calls not already answered by the server, with ids (generated when Gemini gave none). */
  private toolCalls(): ToolCall[] {
    const answered = [...this.answered];
    const pending = this.calls.filter((call) => {
      const i = answered.findIndex((a) => (a.id !== undefined && call.id !== undefined ? a.id === call.id : a.name === call.name));
      if (i < 0) return true;
      answered.splice(i, 1);
      return false;
    });
    return pending.map((call, index) => {
      const argumentsJson = JSON.stringify(call.args);
      const out: ToolCall = { id: call.id ?? this.generatedId(index, call.name, argumentsJson), name: call.name, argumentsJson };
      if (call.thoughtSignature !== undefined) out.thoughtSignature = call.thoughtSignature;
      return out;
    });
  }

  /**
   * A stable id for a call Gemini sent without one: `call_<n>_<hash>`, the hash over the
   * response id, position, name and arguments, so the same response always gets the same ids
   * and calls of different turns do not collide.
   */
  private generatedId(index: number, name: string, argumentsJson: string): string {
    const hash = createHash('sha256').update(`${this.responseId ?? ''}\n${index}\n${name}\n${argumentsJson}`).digest('hex');
    return `call_${index}_${hash.slice(0, 10)}`;
  }
}

/**
 * Gemini usage → ours: input = prompt (which includes cached content) + tool-use prompt;
 * output = candidates + thoughts. Cached and reasoning counts appear only when non-zero.
 */
export function toUsage(metadata: GenerateContentResponseUsageMetadata | undefined): Usage {
  const thoughts = metadata?.thoughtsTokenCount ?? 0;
  const cached = metadata?.cachedContentTokenCount ?? 0;
  const usage: Usage = {
    inputTokens: (metadata?.promptTokenCount ?? 0) + (metadata?.toolUsePromptTokenCount ?? 0),
    outputTokens: (metadata?.candidatesTokenCount ?? 0) + thoughts,
  };
  if (cached > 0) usage.cachedInputTokens = cached;
  if (thoughts > 0) usage.reasoningTokens = thoughts;
  return usage;
}

/** Splits a JSON path (`$.a.b[0]['c d']`) into keys and indexes; undefined when it is not one. */
export function parseJsonPath(path: string): Array<string | number> | undefined {
  if (!path.startsWith('$')) return undefined;
  const out: Array<string | number> = [];
  const re = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (m === null) return undefined;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push((m[3] ?? m[4] ?? '').replace(/\\(.)/g, '$1'));
  }
  return out;
}

function applyPartialArg(call: PendingCall, partial: PartialArg): void {
  const path = partial.jsonPath ?? '$';
  const keys = parseJsonPath(path);
  if (keys === undefined || keys.length === 0) return;
  let value: unknown;
  if (partial.stringValue !== undefined) value = partial.stringValue;
  else if (partial.numberValue !== undefined) value = partial.numberValue;
  else if (partial.boolValue !== undefined) value = partial.boolValue;
  else if (partial.nullValue !== undefined) value = null;
  else value = undefined;
  let target: Record<string | number, unknown> = call.args;
  for (const [i, key] of keys.entries()) {
    const last = i === keys.length - 1;
    if (last) {
      const existing = target[key];
      if (typeof value === 'string' && call.openStrings.has(path) && typeof existing === 'string') target[key] = existing + value;
      else if (value !== undefined) target[key] = value;
      break;
    }
    const next = target[key];
    if (typeof next !== 'object' || next === null) target[key] = typeof keys[i + 1] === 'number' ? [] : {};
    target = target[key] as Record<string | number, unknown>;
  }
  if (partial.willContinue === true) call.openStrings.add(path);
  else call.openStrings.delete(path);
}
