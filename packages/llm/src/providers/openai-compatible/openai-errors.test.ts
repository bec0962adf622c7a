import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { OperationalError, UserError } from '@maestro/runtime';
import { toProviderError, type OpenAIErrorContext } from './openai-errors.js';

const KEY = 'sk-live-abcdef123456';
const ctx: OpenAIErrorContext = {
  provider: 'openai',
  keyVariable: 'OPENAI_API_KEY',
  apiKey: KEY,
  baseURL: 'https://api.openai.com/v1',
  model: 'gpt-4o',
  phase: 'request',
  timeoutMs: 120_000,
  idleTimeoutMs: 60_000,
  now: Date.parse('2026-01-01T00:00:00Z'),
};

const httpError = (status: number, error: unknown, headers: Record<string, string> = {}) =>
  APIError.generate(status, { error }, undefined, new Headers(headers));

describe('toProviderError', () => {
  it('follows the SDK retry rule, x-should-retry first', () => {
    const code = (status: number, headers: Record<string, string> = {}) => {
      const err = toProviderError(httpError(status, { message: 'm' }, headers), ctx);
      return [err.code, err instanceof OperationalError] as const;
    };
    expect(code(400, { 'x-should-retry': 'true' })).toEqual(['PROVIDER_UNAVAILABLE', true]);
    expect(code(500, { 'x-should-retry': 'false' })).toEqual(['PROVIDER_BAD_REQUEST', false]);
    expect(code(409)).toEqual(['PROVIDER_UNAVAILABLE', true]);
    expect(code(429)).toEqual(['PROVIDER_RATE_LIMITED', true]);
    expect(code(401)).toEqual(['PROVIDER_AUTH_FAILED', false]);
    expect(code(404)).toEqual(['PROVIDER_MODEL_NOT_FOUND', false]);
    expect(code(418)).toEqual(['PROVIDER_BAD_REQUEST', false]);
  });

  it('reads retry-after-ms, retry-after seconds and dates', () => {
    const wait = (headers: Record<string, string>) => toProviderError(httpError(429, { message: 'slow' }, headers), ctx).details?.['retryAfterMs'];
    expect(wait({ 'retry-after-ms': '250' })).toBe(250);
    expect(wait({ 'retry-after': '30' })).toBe(30_000);
    expect(wait({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' })).toBe(10_000);
    expect(wait({})).toBeUndefined();
  });

  it('names the key variable on auth failures and never the key', () => {
    const err = toProviderError(httpError(401, { message: `Incorrect API key provided: ${KEY}`, code: 'invalid_api_key' }), ctx);
    expect(err.message).toBe(
      'the openai provider rejected the key in OPENAI_API_KEY: Incorrect API key provided: [redacted] (HTTP 401); check OPENAI_API_KEY',
    );
    expect(err.details).toMatchObject({ provider: 'openai', status: 401, keyVariable: 'OPENAI_API_KEY', providerCode: 'invalid_api_key' });
    expect((err.cause as Error).message).not.toContain(KEY);
  });

  it('maps error events inside a stream by type or numeric code', () => {
    const event = (error: unknown) => toProviderError(new APIError(undefined, error as object, undefined, undefined), { ...ctx, phase: 'stream' });
    expect(event({ message: 'boom', type: 'server_error' }).code).toBe('PROVIDER_UNAVAILABLE');
    expect(event({ message: 'bad request', type: 'provider_error', code: 400 }).code).toBe('PROVIDER_BAD_REQUEST');
    expect(event({ message: 'odd', type: 'weird' }).code).toBe('PROVIDER_MALFORMED_RESPONSE');
    expect(event({ message: 'slow down', code: 'rate_limit_exceeded' }).code).toBe('PROVIDER_RATE_LIMITED');
  });

  it('uses the adapter abort cause over what the SDK made of the abort', () => {
    const abort = new APIUserAbortError();
    expect(toProviderError(abort, { ...ctx, abortCause: 'cancelled' }).code).toBe('PROVIDER_CALL_CANCELLED');
    expect(toProviderError(abort, { ...ctx, abortCause: 'timeout' }).code).toBe('PROVIDER_TIMEOUT');
    expect(toProviderError(abort, { ...ctx, abortCause: 'idle' }).message).toContain('60000 ms (idleTimeoutMs)');
    expect(toProviderError(abort, ctx)).toBeInstanceOf(UserError);
  });

  it('maps connection failures, timeouts, bad JSON and broken streams', () => {
    expect(toProviderError(new APIConnectionTimeoutError(), ctx).code).toBe('PROVIDER_TIMEOUT');
    expect(toProviderError(new APIConnectionError({ cause: new Error('ECONNREFUSED') }), ctx).code).toBe('PROVIDER_UNAVAILABLE');
    expect(toProviderError(new SyntaxError('Unexpected token'), ctx).code).toBe('PROVIDER_MALFORMED_RESPONSE');
    expect(toProviderError(new TypeError('terminated'), { ...ctx, phase: 'stream' }).code).toBe('PROVIDER_STREAM_INTERRUPTED');
    expect(toProviderError(new TypeError('terminated'), ctx).code).toBe('PROVIDER_UNAVAILABLE');
  });

  it('passes our own errors through', () => {
    const own = new OperationalError('PROVIDER_STREAM_INTERRUPTED', 'cut');
    expect(toProviderError(own, ctx)).toBe(own);
  });
});
