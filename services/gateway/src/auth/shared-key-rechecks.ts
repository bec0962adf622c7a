/**
 * The open event streams' re-checks of their API keys, shared by key: every stream asks at each
 * of its heartbeats whether its key is still accepted, and the streams of one key share one
 * key-store lookup per heartbeat period, so 5,000 viewers on one key are one PostgreSQL read
 * per period instead of 5,000.
 *
 * A lookup (still running or finished) is reused only for less than one period after it
 * started. A stream's heartbeats are a period apart, so the lookup that answers its next
 * heartbeat started after this one: a key revoked before a heartbeat is seen at that heartbeat
 * or, when its answer came from a lookup started just before the revocation, at the one after
 * (at most one heartbeat plus one lookup late). A lookup that fails is shared as a failure,
 * never as a revocation: the streams that share it stay open and ask again at their next
 * heartbeat.
 *
 * A revocation announced on the bus (any replica's `DELETE /v1/keys/:id`, see `key-revocations`)
 * does not wait for the heartbeat: {@link SharedKeyRechecks.revoked} drops the key's shared
 * lookups and tells the key's streams ({@link SharedKeyRechecks.onRevoked}) to re-check at once,
 * so their answer comes from a lookup that started after the revocation. The announcement is only
 * a prompt to look: a stream ends on what the key store says, never on the message alone.
 *
 * While the key store fails, the streams' failed checks are logged as one warning per period
 * with how many failed since the previous warning (the bus's `LiveRejections` shape), not one
 * per stream per heartbeat.
 *
 * @example
 * const rechecks = new SharedKeyRechecks({ credentials: authenticator, clock, logger, periodMs: heartbeatMs });
 * watchCredentials({ principal, credentials: rechecks, clock, logger, onLapse });
 */
import type { Clock, Logger } from '@maestro/runtime';
import type { Authenticator } from './authenticator.js';
import type { Principal } from './principal.js';

/** What {@link SharedKeyRechecks} needs. */
export interface SharedKeyRechecksOptions {
  /** What answers one re-check: the gateway's {@link Authenticator}. */
  credentials: Pick<Authenticator, 'stillValid'>;
  /** What lookup ages and warning intervals are measured on (the streams' heartbeat clock). */
  clock: Clock;
  /** Where the rate-limited warning about failed re-checks goes. */
  logger: Logger;
  /**
   * The streams' heartbeat interval: how long after it started a lookup is shared, and the
   * shortest time between two warnings. No default on purpose: a period longer than the
   * heartbeat would let a revoked key's streams outlive more than one extra heartbeat.
   */
  periodMs: number;
}

/** The warning {@link SharedKeyRechecks} logs, at most once per period. */
export const KEY_RECHECKS_FAILED = 'open streams\' key re-checks failed; the streams stay open and are checked again at their next heartbeat';

/** One key-store lookup and when it started, shared by the streams whose principal it answers for. */
interface SharedLookup {
  keyId: string;
  startedAt: number;
  answer: Promise<boolean>;
}

/** Shares the open streams' API key re-checks by key and rate-limits the warnings about failed ones. */
export class SharedKeyRechecks {
  /** {@link shareKeyOf} → the lookup started last for it, dropped once no longer shareable. */
  private readonly lookups = new Map<string, SharedLookup>();
  /** When {@link lookups} was last cleared of lookups too old to share. */
  private sweptAt: number;
  /** When the last warning was logged and how many checks failed after it; none logged yet when undefined. */
  private warned: { at: number; failedSince: number } | undefined;
  /** Key id → what the open streams of that key do when it is announced revoked. */
  private readonly revocationListeners = new Map<string, Set<() => void>>();

  constructor(private readonly options: SharedKeyRechecksOptions) {
    this.sweptAt = options.clock.now();
  }

  /**
   * Whether `principal` is still accepted, as {@link Authenticator.stillValid} answers, from the
   * lookup of its key started less than a period ago if there is one (running or finished),
   * from a new lookup otherwise. Rejects when that lookup failed.
   */
  stillValid(principal: Principal): Promise<boolean> {
    const shareKey = shareKeyOf(principal);
    // OIDC tokens are checked against their expiry, not a store: nothing to share.
    if (shareKey === undefined) return this.options.credentials.stillValid(principal);
    const now = this.options.clock.now();
    this.sweep(now);
    const shared = this.lookups.get(shareKey);
    if (shared !== undefined && now - shared.startedAt < this.options.periodMs) return shared.answer;
    // A store that throws synchronously fails this lookup like one that rejects.
    const answer = new Promise<boolean>((resolve) => resolve(this.options.credentials.stillValid(principal)));
    this.lookups.set(shareKey, { keyId: principal.keyId ?? '', startedAt: now, answer });
    return answer;
  }

  /**
   * Records that one stream's re-check failed (the store threw, or did not answer in time): the
   * first failure is logged at once, later ones at most once per period, with how many checks
   * failed since the previous warning.
   */
  checkFailed(err: unknown): void {
    const now = this.options.clock.now();
    const last = this.warned;
    if (last !== undefined && now - last.at < this.options.periodMs) {
      last.failedSince++;
      return;
    }
    this.warned = { at: now, failedSince: 0 };
    // This check included; `err` is this check's, the others' were most likely the same outage.
    this.options.logger.warn(KEY_RECHECKS_FAILED, { failedChecks: (last?.failedSince ?? 0) + 1, err });
  }

  /**
   * Calls `onRevoked` when `principal`'s key is announced revoked (never for an OIDC principal);
   * returns the function that stops listening.
   */
  onRevoked(principal: Principal, onRevoked: () => void): () => void {
    const keyId = principal.via === 'oidc' ? undefined : principal.keyId;
    if (keyId === undefined) return () => undefined;
    let listeners = this.revocationListeners.get(keyId);
    if (listeners === undefined) {
      listeners = new Set();
      this.revocationListeners.set(keyId, listeners);
    }
    listeners.add(onRevoked);
    return () => {
      listeners.delete(onRevoked);
      if (listeners.size === 0 && this.revocationListeners.get(keyId) === listeners) this.revocationListeners.delete(keyId);
    };
  }

  /**
   * `keyId` was announced revoked: its shared lookups are dropped (the next re-check asks the
   * store afresh) and its streams' listeners are called.
   */
  revoked(keyId: string): void {
    for (const [shareKey, lookup] of this.lookups) if (lookup.keyId === keyId) this.lookups.delete(shareKey);
    for (const listener of [...(this.revocationListeners.get(keyId) ?? [])]) listener();
  }

  /** Drops the lookups too old to share, at most once a period, so keys no stream checks any more are not kept. */
  private sweep(now: number): void {
    if (now - this.sweptAt < this.options.periodMs) return;
    this.sweptAt = now;
    for (const [shareKey, lookup] of this.lookups) {
      if (now - lookup.startedAt >= this.options.periodMs) this.lookups.delete(shareKey);
    }
  }
}

/**
 * Which streams may share a lookup: those of one key id carrying the same principal, since
 * `Authenticator.stillValid` compares the stored key with what the stream opened with (secret
 * hash, tenant, scopes). The streams of one key carry the same unless the key changed between
 * their requests (the operator key re-configured), and then each version gets its own lookup.
 * Undefined for an OIDC principal.
 */
function shareKeyOf(principal: Principal): string | undefined {
  if (principal.via === 'oidc' || principal.keyId === undefined) return undefined;
  return JSON.stringify([principal.keyId, principal.via, principal.keySecretHash, principal.tenant, [...principal.scopes].sort()]);
}
