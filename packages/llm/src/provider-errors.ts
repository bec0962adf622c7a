/**
 * How a provider failure reaches the rest of CodeMaestro: one code per thing a caller can act
 * on, mapped onto the runtime's error kinds. Transient failures (429, 5xx, overloaded,
 * timeouts, a stream cut mid-way, a malformed body) are `OperationalError`s the resilience layer
 * retries; what retrying cannot fix (a bad key, no balance, a prompt too long, a refusal) is a
 * `UserError`. Messages name the key *variable*, never the key.
 */
import { OperationalError, UserError } from '@maestro/runtime';

/** Stable codes of provider failures. */
export const ProviderErrorCodes = {
  /** 429: slow down; `details.retryAfterMs` when the provider said how long. */
  rateLimited: 'PROVIDER_RATE_LIMITED',
  /** 5xx / 503 overloaded / connection refused or reset. */
  unavailable: 'PROVIDER_UNAVAILABLE',
  /** No answer (or no next stream event) within the call's timeout. */
  timeout: 'PROVIDER_TIMEOUT',
  /** A stream that ended or broke before its final event. */
  streamInterrupted: 'PROVIDER_STREAM_INTERRUPTED',
  /** A 200 whose body we cannot use: invalid JSON, no choices / candidates, an error event. */
  malformedResponse: 'PROVIDER_MALFORMED_RESPONSE',
  /** The circuit breaker is open: the provider failed repeatedly and is left alone for a while. */
  circuitOpen: 'PROVIDER_CIRCUIT_OPEN',
  /** 400 context length exceeded: shrink the prompt and ask again. */
  contextTooLong: 'CONTEXT_TOO_LONG',
  /** 401 / 403 / invalid key: `details.keyVariable` names the variable to fix. */
  authFailed: 'PROVIDER_AUTH_FAILED',
  /** 402 / insufficient balance or quota that will not come back by waiting. */
  insufficientBalance: 'PROVIDER_INSUFFICIENT_BALANCE',
  /** 404: the model id is unknown to the provider. */
  modelNotFound: 'PROVIDER_MODEL_NOT_FOUND',
  /** Any other 4xx: the request itself is wrong. */
  badRequest: 'PROVIDER_BAD_REQUEST',
  /** The model refused (Gemini SAFETY / RECITATION / PROHIBITED_CONTENT / blocked prompt, OpenAI refusal). */
  refused: 'MODEL_REFUSED',
  /** The caller aborted the call (its `signal`). */
  cancelled: 'PROVIDER_CALL_CANCELLED',
  /** A configured provider has no key: names the variable. */
  keyMissing: 'PROVIDER_KEY_MISSING',
} as const;
/** One of {@link ProviderErrorCodes}. */
export type ProviderErrorCode = (typeof ProviderErrorCodes)[keyof typeof ProviderErrorCodes];

/** What every provider error carries in `details`. */
export interface ProviderErrorDetails {
  /** `gemini`, `openai`, `deepseek` … */
  provider: string;
  /** HTTP status when there was one. */
  status?: number;
  /** How long the provider asked us to wait (Retry-After, retry-after-ms, Gemini RetryInfo). */
  retryAfterMs?: number;
  /** The provider's own error code or status string (`rate_limit_exceeded`, `RESOURCE_EXHAUSTED`). */
  providerCode?: string;
  /** The variable holding the key, for auth failures. */
  keyVariable?: string;
  /** The provider's finish reason, for refusals. */
  finishReason?: string;
  [key: string]: unknown;
}

const OPERATIONAL: ReadonlySet<string> = new Set([
  ProviderErrorCodes.rateLimited,
  ProviderErrorCodes.unavailable,
  ProviderErrorCodes.timeout,
  ProviderErrorCodes.streamInterrupted,
  ProviderErrorCodes.malformedResponse,
  ProviderErrorCodes.circuitOpen,
]);

/**
 * Builds the error for `code`: an `OperationalError` for transient codes, a `UserError` for the
 * rest (`precondition` for auth, balance, refusal and cancellation; `invalid` otherwise).
 */
export function providerError(
  code: ProviderErrorCode,
  message: string,
  details: ProviderErrorDetails,
  cause?: unknown,
): OperationalError | UserError {
  const options = { details: details as Record<string, unknown>, ...(cause === undefined ? {} : { cause }) };
  if (OPERATIONAL.has(code)) return new OperationalError(code, message, options);
  const precondition: ReadonlySet<string> = new Set([
    ProviderErrorCodes.authFailed,
    ProviderErrorCodes.insufficientBalance,
    ProviderErrorCodes.refused,
    ProviderErrorCodes.keyMissing,
  ]);
  return new UserError(code, message, {
    ...options,
    reason: code === ProviderErrorCodes.modelNotFound ? 'not_found' : code === ProviderErrorCodes.cancelled ? 'cancelled' : precondition.has(code) ? 'precondition' : 'invalid',
  });
}

/** True when retrying (after a wait) may succeed: the error is operational. */
export function isRetryableProviderError(err: unknown): err is OperationalError {
  return err instanceof OperationalError;
}

/** The wait a provider error asked for, if any. */
export function retryAfterMsOf(err: unknown): number | undefined {
  if (!(err instanceof OperationalError) || err.details === undefined) return undefined;
  const value = err.details['retryAfterMs'];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Parses an HTTP `Retry-After` (seconds or an HTTP date) or `retry-after-ms` header into
 * milliseconds; `now` is the clock's time, for the date form.
 */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, now: number): number | undefined {
  if (headers === undefined) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.max(0, Math.round(Number(value) * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Parses a protobuf Duration string (`34.4s`, `56s`) as Gemini's `RetryInfo.retryDelay` gives it. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match === null ? undefined : Math.round(Number(match[1]) * 1000);
}
