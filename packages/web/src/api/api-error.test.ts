import { ApiErrorKinds, asApiError, toApiError } from './api-error';

describe('toApiError', () => {
  it('reads the gateway error body and tells a 404 apart', () => {
    const err = toApiError(404, { error: { code: 'RUN_NOT_FOUND', message: 'run r1 not found' } }, 'run r1');
    expect(err.kind).toBe(ApiErrorKinds.notFound);
    expect(err.code).toBe('RUN_NOT_FOUND');
    expect(err.message).toContain('run r1 not found');
  });

  it('treats 503 as an unavailable upstream and survives a body that is not the error shape', () => {
    const err = toApiError(503, 'oops', 'tasks');
    expect(err.kind).toBe(ApiErrorKinds.unreachable);
    expect(err.code).toBe('HTTP_503');
  });

  it('turns a network failure into an unreachable error that says what to check', () => {
    const err = asApiError(new TypeError('Failed to fetch'), 'tasks');
    expect(err.kind).toBe(ApiErrorKinds.unreachable);
    expect(err.message).toMatch(/cannot be reached.*Failed to fetch/);
  });
});
