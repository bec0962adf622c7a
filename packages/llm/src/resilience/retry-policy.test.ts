import { UserError } from '@maestro/runtime';
import { ProviderErrorCodes, providerError } from '../provider-errors.js';
import { compileRetryOptions, decideRetry } from './retry-policy.js';

const unavailable = providerError(ProviderErrorCodes.unavailable, 'overloaded', { provider: 'gemini' });
const rateLimited = (retryAfterMs: number) => providerError(ProviderErrorCodes.rateLimited, 'slow down', { provider: 'gemini', retryAfterMs });

describe('compileRetryOptions', () => {
  it('fills in the documented defaults', () => {
    expect(compileRetryOptions()).toEqual({ maxAttempts: 4, maxElapsedMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 30_000 });
  });

  it('names the option that makes no sense', () => {
    expect(() => compileRetryOptions({ maxAttempts: 0 })).toThrow(UserError);
    expect(() => compileRetryOptions({ maxAttempts: 0 })).toThrow(/retry\.maxAttempts: must be a whole number of at least 1, got 0/);
    expect(() => compileRetryOptions({ baseDelayMs: 5_000, maxDelayMs: 1_000 })).toThrow(/retry\.maxDelayMs/);
  });
});

describe('decideRetry', () => {
  const policy = compileRetryOptions({ maxAttempts: 10, maxElapsedMs: 600_000, baseDelayMs: 1_000, maxDelayMs: 8_000 });

  it('doubles the backoff per attempt up to maxDelayMs, the same every time', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => decideRetry(policy, { error: unavailable, attempt, elapsedMs: 0 }));
    expect(delays.map((decision) => (decision.retry ? decision.delayMs : undefined))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it("waits the provider's retryAfterMs when it is longer than the backoff, and the backoff otherwise", () => {
    expect(decideRetry(policy, { error: rateLimited(20_000), attempt: 1, elapsedMs: 0 })).toMatchObject({ retry: true, delayMs: 20_000 });
    expect(decideRetry(policy, { error: rateLimited(10), attempt: 3, elapsedMs: 0 })).toMatchObject({ retry: true, delayMs: 4_000 });
  });

  it('lets a wait end exactly at the budget, not past it', () => {
    const budget = compileRetryOptions({ maxElapsedMs: 10_000, baseDelayMs: 1_000 });
    expect(decideRetry(budget, { error: unavailable, attempt: 1, elapsedMs: 9_000 })).toMatchObject({ retry: true, delayMs: 1_000 });
    expect(decideRetry(budget, { error: unavailable, attempt: 1, elapsedMs: 9_001 })).toMatchObject({
      retry: false,
      reason: 'budget_exceeded',
    });
  });
});
