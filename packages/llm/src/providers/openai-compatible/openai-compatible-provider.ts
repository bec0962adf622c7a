/**
 * The adapter for every OpenAI-compatible Chat Completions endpoint (`openai:<model>`,
 * `deepseek:<model>`, and xAI, vLLM, Ollama, gateways), built on the official `openai` SDK.
 *
 * The SDK does the HTTP, SSE parsing and error classes; this class adds what CodeMaestro needs
 * around it: no SDK retries (the resilience layer retries, using `details.retryAfterMs`), a
 * whole-call timeout and an idle timeout between stream events that abort the HTTP request,
 * cancellation through the request's signal, provider errors instead of SDK errors, and the
 * `x-maestro-fake: scripted` label of fake servers surfaced as `scripted: true`.
 */
import { OpenAI } from 'openai';
import { systemClock, type Clock } from '@maestro/runtime';
import type { ChatProvider, CompletionRequest, CompletionResult, CompletionStreamEvent } from '../../chat-provider.js';
import { FakeServerHeaders, SCRIPTED_REPLY } from '../../fake-server-headers.js';
import { ProviderErrorCodes, providerError } from '../../provider-errors.js';
import { fromChatCompletion, type ReplyContext } from './from-openai-response.js';
import { CallGuard } from '../call-guard.js';
import { toProviderError, type OpenAIErrorContext } from './openai-errors.js';
import { StreamAssembler } from './stream-assembler.js';
import { toOpenAIRequest, type MaxTokensParam, type OpenAIRequestOptions } from './to-openai-request.js';


/** Options of {@link OpenAICompatibleProvider}. */
export interface OpenAICompatibleProviderOptions {
  /** The provider's name in model specs and errors: `openai`, `deepseek`, or another. */
  name: string;
  /** The API key. Never appears in an error message or detail. */
  apiKey: string;
  /** The endpoint, e.g. `https://api.openai.com/v1` or `https://api.deepseek.com`. */
  baseURL: string;
  /** The variable the key came from (`OPENAI_API_KEY`), named in auth errors. */
  keyVariable: string;
  /** The whole call, streaming included; then the request is aborted. @default 120000 */
  timeoutMs?: number;
  /**
   * The longest gap between stream events once the response has started; then the request is
   * aborted with `PROVIDER_TIMEOUT`. Reasoning models that think silently before their first
   * chunk need a larger value. @default 60000
   */
  idleTimeoutMs?: number;
  /** @default 'max_completion_tokens' for `openai`, 'max_tokens' otherwise */
  maxTokensParam?: MaxTokensParam;
  /** Send `reasoning_content` back on tool-call turns (DeepSeek thinking mode needs it). @default true for `deepseek` */
  sendReasoning?: boolean;
  /**
   * Send the request's intent in an `x-maestro-intent` header. Only for fake servers replaying
   * scripts (`maestro demo --wire`); real providers have no use for it. @default false
   */
  forwardIntent?: boolean;
  /** For `Retry-After` dates. @default systemClock */
  clock?: Clock;
}

/** Defaults of {@link OpenAICompatibleProviderOptions}. */
export const OpenAICompatibleDefaults = {
  timeoutMs: 120_000,
  idleTimeoutMs: 60_000,
} as const;

function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`OpenAICompatibleProvider: ${field} must be a positive integer of milliseconds, got ${value}`);
  }
  return value;
}

/**
 * A {@link ChatProvider} over an OpenAI-compatible Chat Completions endpoint.
 *
 * @example
 * const provider = new OpenAICompatibleProvider({
 *   name: 'deepseek', apiKey: config.deepseekApiKey, baseURL: 'https://api.deepseek.com',
 *   keyVariable: 'DEEPSEEK_API_KEY',
 * });
 * const result = await provider.complete({ model: 'deepseek-chat', messages, tools });
 */
export class OpenAICompatibleProvider implements ChatProvider {
  readonly name: string;
  private readonly client: OpenAI;
  private readonly apiKey: string;
  private readonly baseURL: string;
  private readonly keyVariable: string;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly requestOptions: OpenAIRequestOptions;
  private readonly forwardIntent: boolean;
  private readonly clock: Clock;

  constructor(options: OpenAICompatibleProviderOptions) {
    this.name = options.name;
    this.apiKey = options.apiKey;
    this.baseURL = options.baseURL;
    this.keyVariable = options.keyVariable;
    if (options.apiKey.trim() === '') {
      throw providerError(
        ProviderErrorCodes.keyMissing,
        `the ${options.name} provider needs an API key: set ${options.keyVariable}`,
        { provider: options.name, keyVariable: options.keyVariable },
      );
    }
    this.timeoutMs = positiveInteger(options.timeoutMs, OpenAICompatibleDefaults.timeoutMs, 'timeoutMs');
    this.idleTimeoutMs = positiveInteger(options.idleTimeoutMs, OpenAICompatibleDefaults.idleTimeoutMs, 'idleTimeoutMs');
    this.requestOptions = {
      maxTokensParam: options.maxTokensParam ?? (options.name === 'openai' ? 'max_completion_tokens' : 'max_tokens'),
      sendReasoning: options.sendReasoning ?? options.name === 'deepseek',
    };
    this.forwardIntent = options.forwardIntent ?? false;
    this.clock = options.clock ?? systemClock;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      // Retries belong to the resilience layer; the SDK must make exactly one attempt.
      maxRetries: 0,
      timeout: this.timeoutMs,
      // Explicit, so the SDK reads nothing from the environment (OPENAI_ORG_ID, OPENAI_LOG …).
      organization: null,
      project: null,
      logLevel: 'off',
    });
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const call = this.guard(request);
    let finished = false;
    try {
      if (call.cause !== undefined) throw new Error('aborted before the request was sent');
      const { data, response } = await this.client.chat.completions
        .create(toOpenAIRequest(request, this.requestOptions), this.sdkOptions(request, call))
        .withResponse();
      const result = fromChatCompletion(data as unknown, this.replyContext(request, response.headers));
      finished = true;
      return result;
    } catch (err) {
      throw toProviderError(err, this.errorContext(request, call, 'request'));
    } finally {
      call.dispose(finished);
    }
  }

  async *stream(request: CompletionRequest): AsyncIterable<CompletionStreamEvent> {
    const call = this.guard(request);
    let finished = false;
    try {
      let started: { data: AsyncIterable<unknown>; response: Response };
      try {
        if (call.cause !== undefined) throw new Error('aborted before the request was sent');
        started = await this.client.chat.completions
          .create(
            { ...toOpenAIRequest(request, this.requestOptions), stream: true, stream_options: { include_usage: true } },
            this.sdkOptions(request, call),
          )
          .withResponse();
      } catch (err) {
        throw toProviderError(err, this.errorContext(request, call, 'request'));
      }
      const assembler = new StreamAssembler(this.replyContext(request, started.response.headers));
      const events = started.data[Symbol.asyncIterator]();
      for (;;) {
        call.armIdle(this.idleTimeoutMs);
        let next: IteratorResult<unknown>;
        try {
          next = await events.next();
          // The SDK ends the iteration quietly when the request is aborted: the cause says why.
          if (call.cause !== undefined) throw new Error('stream aborted');
        } catch (err) {
          throw toProviderError(err, this.errorContext(request, call, 'stream'));
        } finally {
          call.disarmIdle();
        }
        if (next.done === true) break;
        const content = assembler.push(next.value);
        if (content !== '') yield { type: 'delta', content };
      }
      const result = assembler.finish();
      finished = true;
      yield { type: 'final', result };
    } finally {
      // A consumer that stops early (or an error) must not leave the request running.
      call.dispose(finished);
    }
  }

  /** The call's guard: the caller's signal and the whole-call deadline (the idle timer is armed per event). */
  private guard(request: CompletionRequest): CallGuard {
    const call = new CallGuard(request.signal);
    call.startDeadline(this.timeoutMs);
    return call;
  }

  private sdkOptions(request: CompletionRequest, call: CallGuard): OpenAI.RequestOptions {
    const intent = this.forwardIntent && request.intent !== undefined ? { [FakeServerHeaders.intent]: request.intent } : undefined;
    return { signal: call.signal, ...(intent !== undefined ? { headers: intent } : {}) };
  }

  private replyContext(request: CompletionRequest, headers: Headers): ReplyContext {
    return {
      provider: this.name,
      model: request.model,
      apiKey: this.apiKey,
      scripted: headers.get(FakeServerHeaders.reply) === SCRIPTED_REPLY,
      request,
    };
  }

  private errorContext(request: CompletionRequest, call: CallGuard, phase: OpenAIErrorContext['phase']): OpenAIErrorContext {
    return {
      provider: this.name,
      keyVariable: this.keyVariable,
      apiKey: this.apiKey,
      baseURL: this.baseURL,
      model: request.model,
      phase,
      abortCause: call.cause,
      timeoutMs: this.timeoutMs,
      idleTimeoutMs: this.idleTimeoutMs,
      now: this.clock.now(),
    };
  }
}
