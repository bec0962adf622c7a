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
function checkAnswering(answer: () => boolean): CredentialCheck & { calls: number; failures: unknown[]; announce(): void; listening(): number } {
  const listeners = new Set<() => void>();
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
    onRevoked: (_principal: Principal, listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Announces the key revoked, as SharedKeyRechecks.revoked does. */
    announce: () => {
      for (const listener of [...listeners]) listener();
    },
    listening: () => listeners.size,
  };
  return check;
}

/** No announcements ever: for checks that only answer. */
const noAnnouncements = { onRevoked: () => () => undefined };

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
      ...noAnnouncements,
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

  it('checks again after a running check when the key is announced revoked meanwhile', async () => {
    const answers: Array<(valid: boolean) => void> = [];
    const announced = new Set<() => void>();
    const credentials: CredentialCheck = {
      stillValid: () => new Promise<boolean>((resolve) => answers.push(resolve)),
      checkFailed: () => undefined,
      onRevoked: (_principal, listener) => {
        announced.add(listener);
        return () => announced.delete(listener);
      },
    };
    const lapses: CredentialLapse[] = [];
    const watch = watchCredentials({ principal: key, credentials, clock: new ManualClock(0), logger: createSilentLogger(), onLapse: (lapse) => lapses.push(lapse) });
    watch.check();
    for (const listener of announced) listener();
    for (const listener of announced) listener();
    expect(answers).toHaveLength(1);
    // The running check's lookup started before the revocation and still says valid.
    answers[0]!(true);
    await settle();
    expect(answers).toHaveLength(2);
    answers[1]!(false);
    await settle();
    expect(lapses).toEqual([CredentialLapse.revoked]);
    expect(answers).toHaveLength(2);
  });

  it('checks at once when the key is announced revoked, and ends on what the store answers', async () => {
    let valid = true;
    const credentials = checkAnswering(() => valid);
    const lapses: CredentialLapse[] = [];
    const watch = watchCredentials({ principal: key, credentials, clock: new ManualClock(0), logger: createSilentLogger(), onLapse: (lapse) => lapses.push(lapse) });
    // An announcement the store does not bear out (a stale or spoofed one) ends nothing.
    credentials.announce();
    await settle();
    expect([credentials.calls, lapses]).toEqual([1, []]);
    valid = false;
    credentials.announce();
    await settle();
    expect([credentials.calls, lapses]).toEqual([2, [CredentialLapse.revoked]]);
    expect(credentials.listening()).toBe(0);
    watch.stop();
  });

  it('stops listening for announcements once stopped', async () => {
    const credentials = checkAnswering(() => false);
    const watch = watchCredentials({ principal: key, credentials, clock: new ManualClock(0), logger: createSilentLogger(), onLapse: () => undefined });
    expect(credentials.listening()).toBe(1);
    watch.stop();
    expect(credentials.listening()).toBe(0);
    credentials.announce();
    await settle();
    expect(credentials.calls).toBe(0);
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
      ...noAnnouncements,
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
