/**
 * How a Gemini failure becomes a provider error: the SDK's `ApiError` (whose message is the
 * error body as text, sometimes wrapped twice), transport failures, aborts and timeouts. Every
 * message and detail is scrubbed of the API key before it leaves this module.
 */
import { OperationalError, UserError } from '@maestro/runtime';
import { redactSecret, redactSecretDeep } from '../../redact-secret.js';
import {
  ProviderErrorCodes,
  parseDurationMs,
  parseRetryAfter,
  providerError,
  type ProviderErrorCode,
  type ProviderErrorDetails,
} from '../../provider-errors.js';

/** The provider name every Gemini error carries in `details.provider`. */
export const GEMINI_PROVIDER = 'gemini';

/** A Google RPC error as the Gemini API sends it (`{ "error": { code, message, status, details } }`). */
export interface GeminiErrorBody {
  /** HTTP status as the body states it. */
  code?: number;
  message?: string;
  /** The google.rpc code name (`RESOURCE_EXHAUSTED`, `INVALID_ARGUMENT` …). */
  status?: string;
  /** `google.rpc.*` detail messages (`ErrorInfo`, `RetryInfo`, `QuotaFailure` …), keyed by `@type`. */
  details?: Array<Record<string, unknown>>;
}

/** What the adapter knows about the call that failed. */
export interface GeminiErrorContext {
  /** The model id asked for, named in not-found errors. */
  model: string;
  /** The variable holding the key, named in auth errors. */
  keyVariable: string;
  /** The API key: scrubbed from every message and detail. */
  apiKey: string;
  /** The HTTP response headers, when a response arrived (for `retry-after`). */
  headers?: { get(name: string): string | null };
  /** The clock's time, for an HTTP-date `retry-after`. */
  now: number;
}


function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `error` object of a parsed body, if it has one. */
function errorObjectOf(value: unknown): GeminiErrorBody | undefined {
  if (!isRecord(value) || !isRecord(value['error'])) return undefined;
  const e = value['error'];
  const out: GeminiErrorBody = {};
  if (typeof e['code'] === 'number') out.code = e['code'];
  if (typeof e['message'] === 'string') out.message = e['message'];
  if (typeof e['status'] === 'string') out.status = e['status'];
  if (Array.isArray(e['details'])) out.details = e['details'].filter(isRecord);
  return out;
}

/** Parses a JSON error body that may arrive bare, after `data:`, or embedded after some prose. */
function parseEmbeddedError(text: string): GeminiErrorBody | undefined {
  const trimmed = text.trim().replace(/^data:\s*/, '');
  const direct = errorObjectOf(tryParseJson(trimmed));
  if (direct !== undefined) return direct;
  const brace = trimmed.indexOf('{');
  return brace > 0 ? errorObjectOf(tryParseJson(trimmed.slice(brace))) : undefined;
}

/**
 * Recovers the Gemini error body from an SDK `ApiError` message. The SDK puts
 * `JSON.stringify(body)` there when the response was JSON; for any other content type (Gemini
 * streams answer errors as `text/event-stream` with a pretty-printed JSON body) it wraps the raw
 * text as `{"error":{"message":"<raw text>","code":404,"status":"Not Found"}}`, and an error
 * object inside a stream becomes `got status: INTERNAL. {...}`. The innermost real body wins.
 */
export function parseGeminiErrorMessage(message: string): GeminiErrorBody | undefined {
  const outer = parseEmbeddedError(message);
  if (outer === undefined) return undefined;
  if (outer.message !== undefined) {
    const inner = parseEmbeddedError(outer.message);
    if (inner !== undefined) return { ...inner, code: inner.code ?? outer.code };
  }
  return outer;
}

function detailOf(body: GeminiErrorBody | undefined, type: string): Record<string, unknown> | undefined {
  return body?.details?.find((d) => typeof d['@type'] === 'string' && (d['@type'] as string).endsWith(`google.rpc.${type}`));
}

const CONTEXT_TOO_LONG =
  /input token count.*exceeds the maximum|exceeds the maximum number of tokens|context (length|window)|too many (input )?tokens|prompt is too long|request payload size exceeds/i;

const AUTH_REASONS = new Set([
  'API_KEY_INVALID',
  'API_KEY_EXPIRED',
  'API_KEY_SERVICE_BLOCKED',
  'API_KEY_HTTP_REFERRER_BLOCKED',
  'API_KEY_IP_ADDRESS_BLOCKED',
  'CREDENTIALS_MISSING',
  'ACCESS_TOKEN_EXPIRED',
  'ACCESS_TOKEN_TYPE_UNSUPPORTED',
]);

function classify(status: number, body: GeminiErrorBody | undefined, reason: string | undefined): ProviderErrorCode {
  const rpc = body?.status;
  const text = body?.message ?? '';
  if (status === 429 || rpc === 'RESOURCE_EXHAUSTED') return ProviderErrorCodes.rateLimited;
  if (status === 401 || status === 403 || rpc === 'UNAUTHENTICATED' || rpc === 'PERMISSION_DENIED') {
    return ProviderErrorCodes.authFailed;
  }
  if (reason !== undefined && AUTH_REASONS.has(reason)) return ProviderErrorCodes.authFailed;
  if (status === 402) return ProviderErrorCodes.insufficientBalance;
  if ((status === 400 || status === 413) && CONTEXT_TOO_LONG.test(text)) return ProviderErrorCodes.contextTooLong;
  if (status === 404 || rpc === 'NOT_FOUND') return ProviderErrorCodes.modelNotFound;
  if (status === 408 || status === 504 || rpc === 'DEADLINE_EXCEEDED') return ProviderErrorCodes.timeout;
  if (status >= 500 || rpc === 'UNAVAILABLE' || rpc === 'INTERNAL') return ProviderErrorCodes.unavailable;
  return ProviderErrorCodes.badRequest;
}

function advice(code: ProviderErrorCode, ctx: GeminiErrorContext): string {
  switch (code) {
    case ProviderErrorCodes.authFailed:
      return `check the key in ${ctx.keyVariable}`;
    case ProviderErrorCodes.modelNotFound:
      return `model "${ctx.model}" is unknown to the Gemini API; check the model id`;
    case ProviderErrorCodes.contextTooLong:
      return 'shorten the conversation and ask again';
    case ProviderErrorCodes.rateLimited:
      return 'slow down and retry later';
    case ProviderErrorCodes.unavailable:
    case ProviderErrorCodes.timeout:
      return 'retry later';
    default:
      return 'the request was rejected';
  }
}

/**
 * Maps an HTTP error from the Gemini API (status plus the SDK's error message) to a provider
 * error: 429 / RESOURCE_EXHAUSTED → rate limited (with `RetryInfo.retryDelay` or `retry-after`
 * as `retryAfterMs`); 401 / 403 / an API-key `ErrorInfo` reason → auth failed naming the key
 * variable; 400 about the token count → context too long; 404 → model not found; 408 / 504 →
 * timeout; 5xx → unavailable; any other 4xx → bad request.
 */
export function fromGeminiHttpError(status: number, sdkMessage: string, ctx: GeminiErrorContext, cause?: unknown): OperationalError | UserError {
  const body = parseGeminiErrorMessage(sdkMessage);
  const reasonValue = detailOf(body, 'ErrorInfo')?.['reason'];
  const reason = typeof reasonValue === 'string' ? reasonValue : undefined;
  const code = classify(status, body, reason);
  const providerMessage = (body?.message ?? sdkMessage).trim().slice(0, 2000);
  const details: ProviderErrorDetails = { provider: GEMINI_PROVIDER, status, model: ctx.model };
  // Only a google.rpc code name: a wrapped non-JSON body carries the HTTP reason phrase instead.
  const rpcStatus = body?.status !== undefined && /^[A-Z][A-Z_]*$/.test(body.status) ? body.status : undefined;
  if (rpcStatus !== undefined) details.providerCode = rpcStatus;
  if (reason !== undefined) details.reason = reason;
  if (code === ProviderErrorCodes.authFailed) details.keyVariable = ctx.keyVariable;
  if (code === ProviderErrorCodes.rateLimited) {
    const retryAfterMs = parseDurationMs(detailOf(body, 'RetryInfo')?.['retryDelay']) ?? parseRetryAfter(ctx.headers, ctx.now);
    if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
    const violations = detailOf(body, 'QuotaFailure')?.['violations'];
    if (Array.isArray(violations)) {
      details.quotaIds = violations.map((v) => (isRecord(v) ? v['quotaId'] : undefined)).filter((v) => typeof v === 'string');
    }
  }
  const label = rpcStatus === undefined ? `${status}` : `${status} ${rpcStatus}`;
  const message = `Gemini answered ${label}: ${providerMessage} (${advice(code, ctx)})`;
  return build(code, message, details, ctx, cause);
}

/** Builds a provider error whose message, details and cause never contain the API key. */
export function geminiError(
  code: ProviderErrorCode,
  message: string,
  details: Omit<ProviderErrorDetails, 'provider'>,
  ctx: Pick<GeminiErrorContext, 'apiKey'>,
  cause?: unknown,
): OperationalError | UserError {
  return build(code, message, { provider: GEMINI_PROVIDER, ...details }, ctx, cause);
}

function build(
  code: ProviderErrorCode,
  message: string,
  details: ProviderErrorDetails,
  ctx: Pick<GeminiErrorContext, 'apiKey'>,
  cause: unknown,
): OperationalError | UserError {
  return providerError(
    code,
    redactSecret(message, ctx.apiKey),
    redactSecretDeep(details, ctx.apiKey) as ProviderErrorDetails,
    cause === undefined ? undefined : scrubCause(cause, ctx.apiKey),
  );
}

/**
 * True for anything shaped like an `Error`. Not `instanceof`: errors thrown by `fetch` may come
 * from another realm (a test sandbox), where `instanceof Error` is false.
 */
export function isErrorLike(value: unknown): value is Error {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** The cause itself when it holds no secret, else a copy with the secret scrubbed (keeping name and status). */
function scrubCause(cause: unknown, secret: string): unknown {
  if (!isErrorLike(cause)) return typeof cause === 'string' ? redactSecret(cause, secret) : cause;
  if (secret === '' || (!cause.message.includes(secret) && !(cause.stack ?? '').includes(secret))) return cause;
  const copy = new Error(redactSecret(cause.message, secret));
  copy.name = cause.name;
  copy.stack = redactSecret(cause.stack ?? '', secret);
  const status = (cause as { status?: unknown }).status;
  if (typeof status === 'number') (copy as Error & { status?: number }).status = status;
  return copy;
}

/** The `code` of a Node/undici network error anywhere in the cause chain (`ECONNREFUSED`, `UND_ERR_SOCKET` …). */
export function networkCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let i = 0; i < 5 && isErrorLike(current); i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
