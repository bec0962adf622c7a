/**
 * The lifecycle every server-sent-event stream of the gateway shares: taking the response over
 * from fastify (hijack), the writer and its bound on a slow client, the heartbeat on the
 * injected Clock, registration with {@link OpenStreams} so a shutdown ends it, and ending exactly
 * once whatever ends it: the client leaving or falling behind, the gateway closing, the route
 * itself, or the caller's credential no longer being accepted ({@link watchCredentials}). In
 * that last case the stream's last event is `unauthenticated`, with the code of a 401, so a
 * client signs in again instead of reconnecting with the same credential.
 */
import type { Clock, Logger, Timer } from '@maestro/runtime';
import type { FastifyReply } from 'fastify';
import { AuthErrorCodes } from '../../auth/auth-errors.js';
import type { Principal } from '../../auth/principal.js';
import { watchCredentials, type CredentialCheck, type CredentialLapse, type CredentialWatch } from './credential-watch.js';
import { startHeartbeat } from './heartbeat.js';
import type { OpenStreams } from './open-streams.js';
import { SseWriter } from './sse-writer.js';

/** The name of the event a stream ends with when its credential is no longer accepted. */
export const UNAUTHENTICATED_EVENT = 'unauthenticated';

/** What every stream is run with: the same for all streams of one gateway. */
export interface SseStreamSettings {
  streams: OpenStreams;
  /** Interval of the heartbeat comment (and of the credential re-check). */
  heartbeatMs: number;
  /** What the heartbeat and the token-expiry timer run on. */
  clock: Clock;
  /** Unsent bytes past which a slow client's stream is ended. @default DEFAULT_SSE_MAX_BUFFERED_BYTES (1 MiB) */
  maxBufferedBytes?: number;
  /** Re-checks the caller's credential while the stream is open: the gateway's one SharedKeyRechecks, shared by all its streams. */
  credentials: CredentialCheck;
}

/** What {@link openSseStream} needs for one stream. */
export interface SseStreamOptions extends SseStreamSettings {
  /** Who the stream is for (`request.principal`). */
  principal: Principal;
  logger: Logger;
  /** Fields on every log line of this stream (`{ runId }`). @default {} */
  logFields?: Record<string, unknown>;
  /** Runs on each heartbeat, after the heartbeat comment (a route's periodic re-read). */
  onBeat?: () => void;
  /** Runs once when the stream ends for any reason, also when the client had left before it opened. */
  onEnd?: () => void;
}

/** An open stream: what a route writes to it and how it ends it. */
export interface SseStream {
  /** Sends one event (nothing once ended). */
  event(name: string, data: unknown): void;
  /** Sends a comment line (nothing once ended). */
  comment(text: string): void;
  /** Ends the stream (once; later calls do nothing). `why` is logged. */
  finish(why: string): void;
  /**
   * For a long run of writes (a replay): resolves at once while little is unsent, otherwise once
   * the client has read it. A client that reads nothing for a heartbeat interval is too slow and
   * its stream is ended. Resolves to whether the stream is still open.
   */
  pace(): Promise<boolean>;
  /** Whether the stream has ended. */
  readonly finished: boolean;
}

/**
 * Takes `reply` over and opens the stream: status and headers are sent at once. Undefined when
 * the client left before (its `close` already fired; `onEnd` has run).
 */
export function openSseStream(reply: FastifyReply, options: SseStreamOptions): SseStream | undefined {
  const { principal, logger } = options;
  const fields = options.logFields ?? {};
  reply.hijack();
  if (reply.raw.destroyed) {
    options.onEnd?.();
    return undefined;
  }

  let finished = false;
  // Set below; `finish` may run before they are (a client gone while the headers are sent).
  let heartbeat: Timer | undefined;
  let credentials: CredentialWatch | undefined;
  let forget: () => void = () => undefined;
  const finish = (why: string): void => {
    if (finished) return;
    finished = true;
    heartbeat?.cancel();
    credentials?.stop();
    forget();
    writer.end();
    options.onEnd?.();
    logger.debug('event stream ended', { ...fields, why });
  };
  const writer = new SseWriter(reply.raw, {
    ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
    onTooSlow: () => {
      logger.info('event stream ended: client too slow', fields);
      finish('client too slow');
    },
  });
  const lapsed = (lapse: CredentialLapse): void => {
    // The key id or the token's subject say whose stream it was; the credential itself is never logged.
    logger.info('event stream ended: credentials no longer accepted', { ...fields, reason: lapse, subject: principal.subject, keyId: principal.keyId });
    writer.event(UNAUTHENTICATED_EVENT, { code: AuthErrorCodes.unauthenticated, message: lapse });
    finish(lapse);
  };

  credentials = watchCredentials({
    principal,
    credentials: options.credentials,
    clock: options.clock,
    logger: logger.child(fields),
    onLapse: lapsed,
    // A check still unanswered at the next heartbeat counts as failed, and that heartbeat asks again.
    checkTimeoutMs: options.heartbeatMs,
  });
  forget = options.streams.add(() => finish('gateway shutting down'));
  reply.raw.on('close', () => finish('client closed'));
  writer.open();
  if (finished) return undefined;
  heartbeat = startHeartbeat(options.clock, options.heartbeatMs, () => {
    writer.comment('heartbeat');
    credentials?.check();
    options.onBeat?.();
  });

  const pace = async (): Promise<boolean> => {
    if (finished || !writer.needsDrain) return !finished;
    const waited = new AbortController();
    const gaveUp = options.clock.sleep(options.heartbeatMs, waited.signal).then(
      () => true,
      () => false,
    );
    const timedOut = await Promise.race([writer.drained().then(() => false), gaveUp]);
    waited.abort();
    // Ended like any stream whose client falls behind (the writer's bound): said last, logged once.
    if (timedOut) writer.endTooSlow();
    return !finished;
  };

  return {
    event: (name, data) => writer.event(name, data),
    comment: (text) => writer.comment(text),
    finish,
    pace,
    get finished() {
      return finished;
    },
  };
}
