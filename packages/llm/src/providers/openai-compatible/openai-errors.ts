/**
 * Turns whatever the `openai` SDK throws (HTTP status errors, `error` events inside a 200
 * stream, connection failures, aborts, unparsable bodies) into one of our provider errors, so
 * no raw SDK error and no API key ever leaves the adapter.
 *
 * Retryability follows the SDK's own rule (we run it with `maxRetries: 0` and let the
 * resilience layer retry): an error is operational exactly when the SDK would have retried it
 * — `x-should-retry: true|false` first, then 408, 409, 429 and 5xx — except where the body says
 * waiting cannot help (a prompt too long, an exhausted balance or quota).
 */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from 'openai';
import { OperationalError, UserError, isMaestroError } from '@maestro/runtime';
import { FakeServerHeaders, SCRIPTED_REPLY } from '../../fake-server-headers.js';
import { redactSecret, redactSecretDeep } from '../../redact-secret.js';
import {
  ProviderErrorCodes,
  parseRetryAfter,
  providerError,
  type ProviderErrorCode,
  type ProviderErrorDetails,
} from '../../provider-errors.js';
import type { AbortCause } from '../call-guard.js';

/** What the error mapping needs to know about the call that failed. */
export interface OpenAIErrorContext {
  /** Provider name (`openai`, `deepseek` …), used in messages and `details.provider`. */
  provider: string;
  /** The variable holding the key, named in auth failures. */
  keyVariable: string;
  /** The key itself: scrubbed from every message and detail. */
  apiKey: string;
  baseURL: string;
  model: string;
  /** `request` until a streamed response's headers arrived, `stream` while reading its events. */
  phase: 'request' | 'stream';
  /** Set when the adapter aborted the call (caller's signal, whole-call or idle timeout). */
  abortCause?: AbortCause | undefined;
  timeoutMs: number;
  idleTimeoutMs: number;
  /** The clock's time, for `Retry-After` dates. */
  now: number;
}

/**
 * A copy of `err` safe to keep as `cause`: same name and (scrubbed) message, nothing else, so a
 * logger that prints causes with their fields cannot print the key or request headers.
 */
function safeCause(err: unknown, secret: string): Error | undefined {
  if (err === undefined) return undefined;
  const original = err instanceof Error ? err : new Error(String(err));
  const copy = new Error(redactSecret(original.message, secret));
  copy.name = original.name;
  return copy;
}

/** Builds a provider error with the key scrubbed from the message, details and cause. */
export function openAIProviderError(
  ctx: Pick<OpenAIErrorContext, 'provider' | 'apiKey' | 'model'>,
  code: ProviderErrorCode,
  message: string,
  details: Omit<ProviderErrorDetails, 'provider'> = {},
  cause?: unknown,
): OperationalError | UserError {
  const all = { provider: ctx.provider, model: ctx.model, ...details };
  return providerError(
    code,
    redactSecret(message, ctx.apiKey),
    redactSecretDeep(all, ctx.apiKey) as ProviderErrorDetails,
    safeCause(cause, ctx.apiKey),
  );
}

/** The parts of an OpenAI-style `error` object (HTTP body or stream event). */
interface ErrorInfo {
  message: string | undefined;
  type: string | undefined;
  code: string | number | undefined;
  param: string | undefined;
}

function errorInfoOf(err: APIError): ErrorInfo {
  const raw: unknown = err.error;
  if (typeof raw === 'string') return { message: raw, type: undefined, code: undefined, param: undefined };
  const obj = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const code = obj['code'];
  return {
    message: text(obj['message']) ?? (typeof obj['message'] === 'object' && obj['message'] !== null ? JSON.stringify(obj['message']) : undefined),
    type: text(obj['type']),
    code: typeof code === 'number' || (typeof code === 'string' && code !== '') ? code : undefined,
    param: text(obj['param']),
  };
}

/** The provider's own words: the body's `error.message`, else the SDK's message without the status prefix. */
function providerMessageOf(err: APIError, info: ErrorInfo): string {
  if (info.message !== undefined) return info.message;
  const status = err.status;
  const text = err.message;
  return status !== undefined && text.startsWith(`${status} `) ? text.slice(String(status).length + 1) : text;
}

const CONTEXT_TOO_LONG = /maximum context length|context[ _]length[ _]exceeded|exceeds? the (?:model's )?context window|prompt is too long/i;
const INSUFFICIENT_BALANCE = /insufficient[ _]balance|insufficient[ _]quota|exceeded your current quota/i;

/** True when the SDK would retry this status (its `shouldRetry`, minus the header, which callers check first). */
function sdkRetriesStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Maps an HTTP error status (or a stream event's numeric code) with its body and headers. */
function fromStatus(
  ctx: OpenAIErrorContext,
  status: number,
  info: ErrorInfo,
  providerMessage: string,
  base: Omit<ProviderErrorDetails, 'provider'>,
  shouldRetry: boolean | undefined,
  cause: unknown,
  where: string,
): OperationalError | UserError {
  const p = ctx.provider;
  const codeText = typeof info.code === 'string' ? info.code : '';
  const details = base;
  const make = (code: ProviderErrorCode, message: string, extra: Omit<ProviderErrorDetails, 'provider'> = {}) =>
    openAIProviderError(ctx, code, message, { ...details, ...extra }, cause);

  // What the body says wins over the status: these cannot be fixed by waiting.
  if (
    (status === 400 || status === 413 || status === 422) &&
    (codeText === 'context_length_exceeded' || CONTEXT_TOO_LONG.test(providerMessage))
  ) {
    return make(ProviderErrorCodes.contextTooLong, `the ${p} provider rejected the prompt as too long for ${ctx.model}: ${providerMessage} (${where}); shrink the conversation and ask again`);
  }
  if (status === 402 || codeText === 'insufficient_quota' || INSUFFICIENT_BALANCE.test(providerMessage)) {
    return make(ProviderErrorCodes.insufficientBalance, `the ${p} account has insufficient balance or quota: ${providerMessage} (${where}); top up the account or use another provider`);
  }

  const retryable = shouldRetry ?? sdkRetriesStatus(status);
  if (retryable && !sdkRetriesStatus(status)) {
    return make(ProviderErrorCodes.unavailable, `the ${p} provider failed and asked to be retried: ${providerMessage} (${where}, x-should-retry: true)`);
  }
  if (!retryable && sdkRetriesStatus(status)) {
    return make(ProviderErrorCodes.badRequest, `the ${p} provider failed and asked not to be retried: ${providerMessage} (${where}, x-should-retry: false)`);
  }
  if (status === 429) {
    return make(ProviderErrorCodes.rateLimited, `the ${p} provider is rate limiting us: ${providerMessage} (${where})`);
  }
  if (sdkRetriesStatus(status)) {
    return make(ProviderErrorCodes.unavailable, `the ${p} provider is unavailable: ${providerMessage} (${where})`);
  }
  if (status === 401 || status === 403) {
    return make(
      ProviderErrorCodes.authFailed,
      `the ${p} provider rejected the key in ${ctx.keyVariable}: ${providerMessage} (${where}); check ${ctx.keyVariable}`,
      { keyVariable: ctx.keyVariable },
    );
  }
  if (status === 404) {
    return make(ProviderErrorCodes.modelNotFound, `the ${p} provider does not know model "${ctx.model}": ${providerMessage} (${where}); check the model id and the base URL ${ctx.baseURL}`);
  }
  return make(ProviderErrorCodes.badRequest, `the ${p} provider rejected the request: ${providerMessage} (${where})`);
}

/** The `x-should-retry` header as a boolean, when the provider sent it. */
function shouldRetryHeader(headers: Headers | undefined): boolean | undefined {
  const value = headers?.get('x-should-retry');
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

/** An `{ "error": … }` event inside a 200 stream (the SDK throws an `APIError` without status). */
function fromStreamErrorEvent(ctx: OpenAIErrorContext, err: APIError): OperationalError | UserError {
  const info = errorInfoOf(err);
  const message = providerMessageOf(err, info);
  const details: Omit<ProviderErrorDetails, 'provider'> = {
    ...(info.code !== undefined ? { providerCode: String(info.code) } : {}),
    ...(info.type !== undefined ? { providerType: info.type } : {}),
    ...(info.param !== undefined ? { param: info.param } : {}),
    ...(err.requestID ? { requestId: err.requestID } : {}),
  };
  // Some gateways put an HTTP status in `code` (400, 429, 503): treat it as one.
  if (typeof info.code === 'number' && info.code >= 400 && info.code < 600) {
    return fromStatus(ctx, info.code, info, message, details, undefined, err, `error event ${info.code} in its stream`);
  }
  const code = typeof info.code === 'string' ? info.code : '';
  const p = ctx.provider;
  if (code === 'context_length_exceeded' || CONTEXT_TOO_LONG.test(message)) {
    return openAIProviderError(ctx, ProviderErrorCodes.contextTooLong, `the ${p} provider rejected the prompt as too long for ${ctx.model} (error event in its stream): ${message}`, details, err);
  }
  if (code === 'insufficient_quota' || INSUFFICIENT_BALANCE.test(message)) {
    return openAIProviderError(ctx, ProviderErrorCodes.insufficientBalance, `the ${p} account has insufficient balance or quota (error event in its stream): ${message}`, details, err);
  }
  if (code === 'rate_limit_exceeded' || info.type === 'rate_limit_error') {
    return openAIProviderError(ctx, ProviderErrorCodes.rateLimited, `the ${p} provider is rate limiting us (error event in its stream): ${message}`, details, err);
  }
  if (info.type === 'server_error' || code === 'server_error' || info.type === 'overloaded_error' || code === 'overloaded') {
    return openAIProviderError(ctx, ProviderErrorCodes.unavailable, `the ${p} provider failed while streaming (server_error event): ${message}`, details, err);
  }
  return openAIProviderError(ctx, ProviderErrorCodes.malformedResponse, `the ${p} provider sent an error event in its stream: ${message}`, details, err);
}

/** True for a broken connection (undici's "terminated", "other side closed", ECONNRESET …). */
function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const cause = (err as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown }).code;
  return (
    err.message === 'terminated' ||
    (typeof code === 'string' && (code.startsWith('UND_ERR') || code.startsWith('ECONN') || code === 'EPIPE')) ||
    /socket|other side closed|premature close/i.test(err.message)
  );
}

/** The messages of an error and its causes (`Connection error: fetch failed: connect ECONNREFUSED …`). */
function describe(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const text = (current instanceof Error ? current.message : String(current)).replace(/\.$/, '');
    if (text !== '' && !parts.includes(text)) parts.push(text);
    current = current instanceof Error ? (current as { cause?: unknown }).cause : undefined;
  }
  return parts.join(': ');
}

/**
 * Maps anything thrown during a call to a provider error. Errors of our own hierarchy (already
 * mapped, e.g. a refusal found by the assembler) pass through unchanged.
 */
export function toProviderError(err: unknown, ctx: OpenAIErrorContext): OperationalError | UserError {
  if (err instanceof OperationalError || err instanceof UserError) return err;
  const p = ctx.provider;
  // The adapter aborted the call itself: its reason decides, whatever the SDK made of the abort.
  if (ctx.abortCause === 'cancelled') {
    return openAIProviderError(ctx, ProviderErrorCodes.cancelled, `the call to the ${p} provider was cancelled`, {}, err);
  }
  if (ctx.abortCause === 'timeout') {
    return openAIProviderError(ctx, ProviderErrorCodes.timeout, `the ${p} provider did not finish answering within ${ctx.timeoutMs} ms (timeoutMs); the request was aborted`, { timeoutMs: ctx.timeoutMs }, err);
  }
  if (ctx.abortCause === 'idle') {
    return openAIProviderError(ctx, ProviderErrorCodes.timeout, `the ${p} provider's stream sent nothing for ${ctx.idleTimeoutMs} ms (idleTimeoutMs); the request was aborted`, { idleTimeoutMs: ctx.idleTimeoutMs }, err);
  }
  if (err instanceof APIUserAbortError) {
    return openAIProviderError(ctx, ProviderErrorCodes.cancelled, `the call to the ${p} provider was cancelled`, {}, err);
  }
  if (err instanceof APIConnectionTimeoutError) {
    return openAIProviderError(ctx, ProviderErrorCodes.timeout, `the ${p} provider at ${ctx.baseURL} did not answer within ${ctx.timeoutMs} ms (timeoutMs)`, { timeoutMs: ctx.timeoutMs }, err);
  }
  if (err instanceof APIConnectionError) {
    return openAIProviderError(ctx, ProviderErrorCodes.unavailable, `could not reach the ${p} provider at ${ctx.baseURL}: ${describe(err)}`, {}, err);
  }
  if (err instanceof APIError) {
    if (err.status === undefined) return fromStreamErrorEvent(ctx, err);
    const info = errorInfoOf(err);
    const headers = err.headers;
    const shouldRetry = shouldRetryHeader(headers);
    const retryAfterMs = parseRetryAfter(headers, ctx.now);
    const requestId = headers?.get('x-request-id');
    const details: Omit<ProviderErrorDetails, 'provider'> = {
      status: err.status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(info.code !== undefined ? { providerCode: String(info.code) } : {}),
      ...(info.type !== undefined ? { providerType: info.type } : {}),
      ...(info.param !== undefined ? { param: info.param } : {}),
      ...(shouldRetry !== undefined ? { shouldRetry } : {}),
      ...(requestId ? { requestId } : {}),
      // A fake server replaying a script labels its errors too (`x-maestro-fake: scripted`).
      ...(headers?.get(FakeServerHeaders.reply) === SCRIPTED_REPLY ? { scripted: true } : {}),
    };
    return fromStatus(ctx, err.status, info, providerMessageOf(err, info), details, shouldRetry, err, `HTTP ${err.status}`);
  }
  if (err instanceof SyntaxError) {
    const what = ctx.phase === 'stream' ? 'a stream event that is not JSON' : 'a body that is not JSON';
    return openAIProviderError(ctx, ProviderErrorCodes.malformedResponse, `the ${p} provider sent ${what}: ${err.message}`, {}, err);
  }
  if (ctx.phase === 'stream') {
    return openAIProviderError(ctx, ProviderErrorCodes.streamInterrupted, `the ${p} provider's stream broke before its end: ${describe(err)}`, {}, err);
  }
  if (isConnectionFailure(err)) {
    return openAIProviderError(ctx, ProviderErrorCodes.unavailable, `the connection to the ${p} provider broke while reading its answer: ${describe(err)}`, {}, err);
  }
  if (isMaestroError(err)) return openAIProviderError(ctx, ProviderErrorCodes.malformedResponse, `the ${p} provider's answer could not be used: ${err.message}`, {}, err);
  return openAIProviderError(ctx, ProviderErrorCodes.malformedResponse, `the ${p} provider's answer could not be used: ${describe(err)}`, {}, err);
}
