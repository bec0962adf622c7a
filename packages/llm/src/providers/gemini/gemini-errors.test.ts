import { OperationalError, UserError } from '@maestro/runtime';
import { fromGeminiHttpError, parseGeminiErrorMessage } from './gemini-errors.js';

const KEY = 'AIzaSyFAKE-key-0000';
const ctx = { model: 'gemini-2.5-pro', keyVariable: 'GEMINI_API_KEY', apiKey: KEY, now: Date.parse('2026-01-01T00:00:00Z') };

function body(code: number, message: string, status?: string, details?: unknown[]): string {
  return JSON.stringify({ error: { code, message, ...(status === undefined ? {} : { status }), ...(details === undefined ? {} : { details }) } });
}

describe('parseGeminiErrorMessage', () => {
  it('reads a JSON body, a wrapped pretty-printed stream body, and an in-stream error object', () => {
    expect(parseGeminiErrorMessage(body(503, 'overloaded', 'UNAVAILABLE'))).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
    const pretty = JSON.stringify({ error: { code: 404, message: 'models/x is not found' } }, null, 2);
    const wrapped = JSON.stringify({ error: { message: pretty, code: 404, status: 'Not Found' } });
    expect(parseGeminiErrorMessage(wrapped)).toMatchObject({ code: 404, message: 'models/x is not found' });
    expect(parseGeminiErrorMessage(`got status: INTERNAL. ${body(500, 'Internal error', 'INTERNAL')}`)).toMatchObject({
      code: 500,
      status: 'INTERNAL',
      message: 'Internal error',
    });
    expect(parseGeminiErrorMessage('<html>502</html>')).toBeUndefined();
  });
});

describe('fromGeminiHttpError', () => {
  it.each([
    [429, body(429, 'Quota exceeded', 'RESOURCE_EXHAUSTED'), 'PROVIDER_RATE_LIMITED'],
    [503, body(503, 'The model is overloaded.', 'UNAVAILABLE'), 'PROVIDER_UNAVAILABLE'],
    [500, body(500, 'Internal error', 'INTERNAL'), 'PROVIDER_UNAVAILABLE'],
    [504, body(504, 'Deadline expired', 'DEADLINE_EXCEEDED'), 'PROVIDER_TIMEOUT'],
    [400, body(400, 'The input token count (2000000) exceeds the maximum number of tokens allowed (1048576).', 'INVALID_ARGUMENT'), 'CONTEXT_TOO_LONG'],
    [400, body(400, 'API key not valid.', 'INVALID_ARGUMENT', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }]), 'PROVIDER_AUTH_FAILED'],
    [403, body(403, 'Permission denied', 'PERMISSION_DENIED'), 'PROVIDER_AUTH_FAILED'],
    [404, body(404, 'models/x is not found', 'NOT_FOUND'), 'PROVIDER_MODEL_NOT_FOUND'],
    [400, body(400, 'Request contains an invalid argument.', 'INVALID_ARGUMENT'), 'PROVIDER_BAD_REQUEST'],
  ])('maps HTTP %i to its code', (status, message, code) => {
    const error = fromGeminiHttpError(status, message, ctx);
    expect(error.code).toBe(code);
    expect(error.details).toMatchObject({ provider: 'gemini', status });
  });

  it('makes transient failures operational and the rest user errors', () => {
    expect(fromGeminiHttpError(503, body(503, 'x', 'UNAVAILABLE'), ctx)).toBeInstanceOf(OperationalError);
    expect(fromGeminiHttpError(400, body(400, 'x', 'INVALID_ARGUMENT'), ctx)).toBeInstanceOf(UserError);
  });

  it('takes the wait from RetryInfo, else from retry-after, and keeps a daily quota rate limited', () => {
    const retryInfo = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '34.4s' }];
    expect(fromGeminiHttpError(429, body(429, 'slow down', 'RESOURCE_EXHAUSTED', retryInfo), ctx).details).toMatchObject({
      retryAfterMs: 34400,
      providerCode: 'RESOURCE_EXHAUSTED',
    });
    const headers = new Headers({ 'retry-after': '12' });
    expect(fromGeminiHttpError(429, body(429, 'slow down'), { ...ctx, headers }).details?.['retryAfterMs']).toBe(12000);
    const daily = fromGeminiHttpError(429, body(429, 'Quota exceeded for requests per day', 'RESOURCE_EXHAUSTED'), ctx);
    expect(daily.code).toBe('PROVIDER_RATE_LIMITED');
    expect(daily.details?.['retryAfterMs']).toBeUndefined();
  });

  it('names the key variable on auth failures and never the key', () => {
    const error = fromGeminiHttpError(400, body(400, `API key not valid: ${KEY}`, 'INVALID_ARGUMENT', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', metadata: { key: KEY } },
    ]), ctx, new Error(`raw ${KEY}`));
    expect(error.message).toContain('GEMINI_API_KEY');
    expect(error.details?.['keyVariable']).toBe('GEMINI_API_KEY');
    expect(JSON.stringify([error.message, error.details, String((error as { cause?: unknown }).cause)])).not.toContain(KEY);
  });
});
