import { createSilentLogger, ManualClock } from '@maestro/runtime';
import type { Principal } from '../../auth/principal.js';
import { RecordingLogger } from '../../../test/recording-logger.js';
import { CredentialLapse, watchCredentials, type CredentialCheck } from './credential-watch.js';

const key: Principal = { tenant: 'acme', scopes: ['read'], subject: 'key:k1', via: 'api-key', keyId: 'k1' };
const token = (expiresAtMs: number): Principal => ({ tenant: 'acme', scopes: ['read'], subject: 'alice', via: 'oidc', expiresAtMs });

/** Lets a re-check's promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A key store answer the test sets: valid, revoked, or unreadable; `failures` are the failed re-checks reported. */
function checkAnswering(answer: () => boolean): CredentialCheck & { calls: number; failures: unknown[] } {
  const check = {
    calls: 0,
    failures: [] as unknown[],
    stillValid: async () => {
      check.calls++;
      return answer();
    },
    checkFailed: (err: unknown) => {
      check.failures.push(err);
    },
  };
  return check;
}

describe('watchCredentials', () => {
  it('reports a revoked API key at the first check after the revocation, once', async () => {
    let valid = true;
    const credentials = checkAnswering(() => valid);
    const lapses: CredentialLapse[] = [];
    const watch = watchCredentials({ principal: key, credentials, clock: new ManualClock(0), logger: createSilentLogger(), onLapse: (lapse) => lapses.push(lapse) });
    watch.check();
    await settle();
    expect(lapses).toEqual([]);
    valid = false;
    watch.check();
    await settle();
    watch.check();
    await settle();
    expect(lapses).toEqual([CredentialLapse.revoked]);
    expect(credentials.calls).toBe(2);
  });

  it('keeps watching when a re-check fails, reporting it, and reports the revocation a later check sees', async () => {
    let answer: () => boolean = () => {
      throw new Error('connection refused');
    };
    const logger = new RecordingLogger();
    const lapses: CredentialLapse[] = [];
    const credentials = checkAnswering(() => answer());
    const watch = watchCredentials({ principal: key, credentials, clock: new ManualClock(0), logger, onLapse: (lapse) => lapses.push(lapse) });
    watch.check();
    await settle();
    expect(lapses).toEqual([]);
    // The warning is the shared re-checks' (one per period); the stream's own line is at debug.
    expect(credentials.failures).toEqual([new Error('connection refused')]);
    expect(logger.lines.map((line) => [line.level, line.fields['keyId']])).toEqual([['debug', 'k1']]);
    answer = () => false;
    watch.check();
    await settle();
    expect(lapses).toEqual([CredentialLapse.revoked]);
  });

  it('runs one re-check at a time', async () => {
    let release: (valid: boolean) => void = () => undefined;
    let calls = 0;
    const credentials: CredentialCheck = {
      stillValid: () => {
        calls++;
        return new Promise<boolean>((resolve) => {
          release = resolve;
        });
      },
      checkFailed: () => undefined,
    };
    const watch = watchCredentials({ principal: key, credentials, clock: new ManualClock(0), logger: createSilentLogger(), onLapse: () => undefined });
    watch.check();
    watch.check();
    expect(calls).toBe(1);
    release(true);
    await settle();
    watch.check();
    expect(calls).toBe(2);
  });

  it('reports an OIDC token as expired at its expiry on the clock, not before, without asking the store', async () => {
    const clock = new ManualClock(1_000);
    const credentials = checkAnswering(() => true);
    const lapses: CredentialLapse[] = [];
    const watch = watchCredentials({ principal: token(61_000), credentials, clock, logger: createSilentLogger(), onLapse: (lapse) => lapses.push(lapse) });
    clock.advance(59_999);
    watch.check();
    await settle();
    expect(lapses).toEqual([]);
    clock.advance(1);
    expect(lapses).toEqual([CredentialLapse.expired]);
    expect(credentials.calls).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('follows a token valid for longer than one timer can wait', () => {
    const clock = new ManualClock(0);
    const expiresAt = 40 * 24 * 3600 * 1000;
    const lapses: CredentialLapse[] = [];
    watchCredentials({ principal: token(expiresAt), credentials: checkAnswering(() => true), clock, logger: createSilentLogger(), onLapse: (lapse) => lapses.push(lapse) });
    clock.advance(expiresAt - 1);
    expect(lapses).toEqual([]);
    clock.advance(1);
    expect(lapses).toEqual([CredentialLapse.expired]);
  });

  it('reports nothing once stopped', async () => {
    const clock = new ManualClock(0);
    const lapses: CredentialLapse[] = [];
    const oidc = watchCredentials({ principal: token(10_000), credentials: checkAnswering(() => true), clock, logger: createSilentLogger(), onLapse: (lapse) => lapses.push(lapse) });
    const apiKey = watchCredentials({ principal: key, credentials: checkAnswering(() => false), clock, logger: createSilentLogger(), onLapse: (lapse) => lapses.push(lapse) });
    oidc.stop();
    apiKey.stop();
    apiKey.check();
    clock.advance(20_000);
    await settle();
    expect(lapses).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('counts a re-check the key store never answers as failed after its timeout, and asks again', async () => {
    let calls = 0;
    const failures: unknown[] = [];
    const credentials: CredentialCheck = {
      stillValid: () => {
        calls++;
        return calls === 1 ? new Promise<boolean>(() => undefined) : Promise.resolve(false);
      },
      checkFailed: (err) => failures.push(err),
    };
    const clock = new ManualClock(0);
    const lapses: string[] = [];
    const watch = watchCredentials({ principal: key, credentials, clock, logger: createSilentLogger(), onLapse: (lapse) => lapses.push(lapse), checkTimeoutMs: 1_000 });
    watch.check();
    watch.check();
    expect(calls).toBe(1);
    clock.advance(1_000);
    await settle();
    expect(failures).toEqual([new Error('the key store did not answer within 1000 ms')]);
    watch.check();
    await settle();
    expect(calls).toBe(2);
    expect(lapses).toEqual([CredentialLapse.revoked]);
  });
});
