/**
 * Token counting with js-tiktoken, fully offline. CodeMaestro counts every model's tokens with
 * OpenAI's `o200k_base` encoding: exact for OpenAI's current models and a close, deterministic
 * estimate for Gemini and DeepSeek (whose tokenizers are not published as BPE tables), which is
 * what budgets and the scripted provider need.
 */
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import type { ChatMessage, ToolSpec } from './messages.js';

/** Options for encoding text. */
export interface EncodeOptions {
  /**
   * Special tokens (`<|endoftext|>` …) to encode as their single special id. By default they
   * are encoded as the ordinary text they are, because conversation text comes from users and
   * files and must never make counting throw.
   * @default []
   */
  allowedSpecial?: readonly string[] | 'all';
}

/** Counts tokens the way OpenAI's chat format does (the openai-cookbook rule). */
export interface TokenCounter {
  /** The token ids of `text`. */
  encode(text: string, options?: EncodeOptions): number[];
  /** The number of tokens in `text`. */
  countTokens(text: string, options?: EncodeOptions): number;
  /**
   * Tokens a conversation costs as model input: per message 3 tokens, plus its role, content
   * and name (and 1 more when a name is present), plus each tool call's name and arguments;
   * plus 3 for the reply priming (`<|start|>assistant<|message|>`).
   */
  countMessageTokens(messages: readonly ChatMessage[]): number;
  /** Tokens the tool specs cost as input (their JSON text; an estimate, as providers format them differently). */
  countToolTokens(tools: readonly ToolSpec[]): number;
}

/** Per-message overhead of OpenAI's chat format (`<|start|>{role}<|message|>…<|end|>`). */
const TOKENS_PER_MESSAGE = 3;
/** Extra token when a message carries a `name`. */
const TOKENS_PER_NAME = 1;
/** Every reply is primed with `<|start|>assistant<|message|>`. */
const REPLY_PRIMING_TOKENS = 3;

/**
 * Creates a counter over a BPE rank table from `js-tiktoken/ranks/*`; use it for an encoding
 * other than the default `o200k_base` (tests compare with `cl100k_base` vectors this way).
 * The encoder is built on first use, since building it takes a few hundred milliseconds.
 */
export function createTokenCounter(ranks: TiktokenBPE): TokenCounter {
  let encoder: Tiktoken | undefined;
  const get = (): Tiktoken => (encoder ??= new Tiktoken(ranks));
  const encode = (text: string, options: EncodeOptions = {}): number[] => {
    const allowed = options.allowedSpecial ?? [];
    // disallowedSpecial [] means "encode special-token text as plain text" rather than throwing.
    return get().encode(text, allowed === 'all' ? 'all' : [...allowed], []);
  };
  const countTokens = (text: string, options?: EncodeOptions): number =>
    text === '' ? 0 : encode(text, options).length;
  return {
    encode,
    countTokens,
    countMessageTokens(messages) {
      let total = REPLY_PRIMING_TOKENS;
      for (const message of messages) {
        total += TOKENS_PER_MESSAGE + countTokens(message.role) + countTokens(message.content);
        if (message.name !== undefined && message.name !== '') {
          total += countTokens(message.name) + TOKENS_PER_NAME;
        }
        for (const call of message.toolCalls ?? []) {
          total += countTokens(call.name) + countTokens(call.argumentsJson);
        }
      }
      return total;
    },
    countToolTokens(tools) {
      return tools.reduce((sum, tool) => sum + countTokens(JSON.stringify(tool)), 0);
    },
  };
}

/** The default counter, `o200k_base`. */
export const o200kCounter: TokenCounter = createTokenCounter(o200kBase);

/** The `o200k_base` token ids of `text`. */
export function encodeTokens(text: string, options?: EncodeOptions): number[] {
  return o200kCounter.encode(text, options);
}

/** The number of `o200k_base` tokens in `text`. */
export function countTokens(text: string, options?: EncodeOptions): number {
  return o200kCounter.countTokens(text, options);
}

/** Input tokens of a conversation in OpenAI's chat format, with `o200k_base` (see {@link TokenCounter}). */
export function countMessageTokens(messages: readonly ChatMessage[]): number {
  return o200kCounter.countMessageTokens(messages);
}
