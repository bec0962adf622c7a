/**
 * Whether an open stream's credential is still accepted. A request is authenticated once, when
 * it arrives; a server-sent-event stream outlives that, so its principal is watched while it
 * runs: an OIDC token lapses at its expiry (a timer on the Clock, no polling), an API key is
 * re-checked against the key store on each heartbeat, so a revoked key's stream ends at the
 * first heartbeat after the revocation or, at the latest, the one after it: the streams of one
 * key share its lookups ({@link SharedKeyRechecks}), and a stream's heartbeat may get the answer
 * of a lookup another stream of the key started just before the revocation. A revocation
 * announced on the bus (by whichever replica revoked the key) re-checks at once, and so ends the
 * stream within one key-store lookup; the heartbeat re-check stays for an announcement that
 * never arrived (core NATS drops messages while a connection is down).
 *
 * A re-check that fails (the key store is down) keeps the stream open: the caller was
 * authenticated when the stream opened, revocation is enforced within two heartbeats on a
 * best-effort basis, and ending every open stream whenever PostgreSQL blips would turn a store
 * outage into a reconnect storm that fails anyway. The failure is reported to the shared
 * re-checks (which warn once per period, not once per stream) and the next heartbeat checks
 * again; new requests (a reconnect included) still need the store and fail closed.
 */
import type { Clock, Logger, Timer } from '@maestro/runtime';
import type { Principal } from '../../auth/principal.js';
import type { SharedKeyRechecks } from '../../auth/shared-key-rechecks.js';

/** Why a stream's credential stopped being accepted: the message of the stream's last event. */
export const CredentialLapse = {
  /** The API key was revoked or deleted. */
  revoked: 'credentials revoked',
  /** The OIDC token's exp (plus the clock skew) has passed. */
  expired: 'token expired',
} as const;
export type CredentialLapse = (typeof CredentialLapse)[keyof typeof CredentialLapse];

/** What re-checks a principal and hears of the re-checks that failed: the gateway's {@link SharedKeyRechecks}. */
export type CredentialCheck = Pick<SharedKeyRechecks, 'stillValid' | 'checkFailed' | 'onRevoked'>;

/** What {@link watchCredentials} needs. */
export interface CredentialWatchOptions {
  principal: Principal;
  credentials: CredentialCheck;
  /** What the expiry timer runs on (the heartbeat's clock). */
  clock: Clock;
  /** The stream's logger: each failed re-check at debug (the warning is the shared re-checks'). */
  logger: Logger;
  /** Called at most once, when the credential is no longer accepted; the watch has stopped. */
  onLapse(lapse: CredentialLapse): void;
  /**
   * How long one re-check may take before it counts as failed, so a key store that never
   * answers (a half-open connection, a pool used up) cannot stop the checks for good.
   * @default CredentialWatchDefaults.checkTimeoutMs (streams pass their heartbeat interval)
   */
  checkTimeoutMs?: number;
}

/** The defaults of {@link CredentialWatchOptions}. */
export const CredentialWatchDefaults = {
  checkTimeoutMs: 15_000,
} as const;

/** A running watch of one stream's credential. */
export interface CredentialWatch {
  /** Re-checks an API key against the key store (one check at a time); call it on each heartbeat. */
  check(): void;
  /** Stops watching: the stream ended. */
  stop(): void;
}

/** The longest timer to set at once: node fires a `setTimeout` of more than 2^31-1 ms at once. */
const maxTimerMs = 2 ** 31 - 1;

/** Starts watching `options.principal`; OIDC expiry is armed now, key re-checks run on {@link CredentialWatch.check}. */
export function watchCredentials(options: CredentialWatchOptions): CredentialWatch {
  const { principal, clock, logger } = options;
  let stopped = false;
  let checking = false;
  /** A revocation was announced while a check ran: check again when it ends. */
  let checkAgain = false;
  let expiry: Timer | undefined;
  let unlistenRevoked: () => void = () => undefined;

  const stop = (): void => {
    stopped = true;
    expiry?.cancel();
    unlistenRevoked();
  };
  const lapse = (why: CredentialLapse): void => {
    if (stopped) return;
    stop();
    options.onLapse(why);
  };

  const expiresAtMs = principal.expiresAtMs;
  if (expiresAtMs !== undefined) {
    // Never fired synchronously: the stream is not set up yet while this runs.
    const arm = (): void => {
      const left = Math.max(0, expiresAtMs - clock.now());
      expiry = clock.setTimer(Math.min(left, maxTimerMs), () => {
        // A token valid for longer than one timer, or a timer that fired a little early.
        if (clock.now() < expiresAtMs) arm();
        else lapse(CredentialLapse.expired);
      });
    };
    arm();
  }

  const check = (): void => {
    // OIDC tokens cannot be revoked at the provider in a way the gateway could see: their
    // expiry is their end, and its timer is already set.
    if (stopped || checking || principal.via === 'oidc') return;
    checking = true;
    const timeoutMs = options.checkTimeoutMs ?? CredentialWatchDefaults.checkTimeoutMs;
    let timer: Timer | undefined;
    const unanswered = new Promise<never>((_, reject) => {
      timer = clock.setTimer(timeoutMs, () => reject(new Error(`the key store did not answer within ${timeoutMs} ms`)));
    });
    void Promise.race([options.credentials.stillValid(principal), unanswered])
      .then(
        (valid) => {
          if (!valid) lapse(CredentialLapse.revoked);
        },
        (err: unknown) => {
          logger.debug('stream credential re-check failed; the stream stays open and is checked again at the next heartbeat', { keyId: principal.keyId, err });
          options.credentials.checkFailed(err);
        },
      )
      .finally(() => {
        timer?.cancel();
        checking = false;
        if (checkAgain) {
          checkAgain = false;
          check();
        }
      });
  };
  // An announced revocation checks at once; one that comes while a check runs (whose lookup may
  // have started before the revocation) checks again when it ends.
  const checkAnnounced = (): void => {
    if (checking) checkAgain = true;
    else check();
  };
  unlistenRevoked = options.credentials.onRevoked(principal, checkAnnounced);
  return { check, stop };
}
