/**
 * Authentication of control messages (work, results, escalations): anyone who can publish on
 * NATS could otherwise hand the orchestrator a fake subtask result or a fake escalation. Every
 * service holds one shared key (`MAESTRO_BUS_SIGNING_KEY`); each publish is signed with
 * HMAC-SHA256 over the signer, the wire subject, the signing time, a fresh message id, the
 * JetStream deduplication id (`Nats-Msg-Id`) and the body, carried in four headers (and
 * `Nats-Msg-Id`, which a signed message always has), and each durable consumer of a control
 * stream verifies before its handler runs.
 *
 * Freshness is judged against the time the stream STORED the message (the server's timestamp),
 * not the time it is consumed: work may rightly wait in a backlog for hours, while a captured
 * message published again gets a new stored time far from its signing time. Inside the window a
 * replay is stopped by the NATS server itself, for every replica of every service at once: the
 * signature covers `Nats-Msg-Id`, so a replay must carry the original's, and the stream drops a
 * repeated `Nats-Msg-Id` for its duplicate window, which is at least twice the signing window
 * (`StreamDefaults.duplicateWindowMs`): by the time the server forgets the id, the copy is stale.
 * Each process also remembers the ids it verified, a second line for a stream configured with a
 * shorter duplicate window.
 *
 * Live (core-NATS) subscriptions verify the same signature with {@link MessageSigner.verifyLive}:
 * nothing stores a live message, so freshness is judged against the time it is received, and
 * every sighting of a message id after the first on one subscription is a replay.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { systemClock, type Clock } from '@maestro/runtime';

/** What {@link MessageSigner.verifyStored} reads of a message from a stream. */
type StoredMessage = Pick<JsMsg, 'subject' | 'data' | 'headers' | 'time' | 'info'>;

/** The headers a signed message carries. */
export const SignatureHeaders = {
  /** Which service signed (its bus connection name); informational, and covered by the signature. */
  signer: 'Maestro-Signer',
  /** When it was signed, milliseconds since the epoch (decimal). */
  signedAt: 'Maestro-Signed-At',
  /** A fresh random id per publish, for replay detection. */
  messageId: 'Maestro-Message-Id',
  /** `v2=<base64url HMAC-SHA256>`. */
  signature: 'Maestro-Signature',
} as const;

/**
 * JetStream's deduplication header. A signed message always carries one (the publisher's own
 * idempotency id, or else its `Maestro-Message-Id`), and the signature covers it.
 */
export const DEDUP_HEADER = 'Nats-Msg-Id';

/** Why a control message was refused; the start of its dead letter's reason. */
export const SignatureRejections = {
  /** No signature headers (or some missing): published by something without the key. */
  unsigned: 'UNSIGNED',
  /** The signature does not match: wrong key, or subject, body or headers changed after signing. */
  badSignature: 'BAD_SIGNATURE',
  /** Signed too long before (or after) the stream stored it: a replay of an old message. */
  stale: 'STALE',
  /** A message id already seen on another stored message inside the window: a replay (the server drops most before this). */
  replayed: 'REPLAYED',
} as const;
/** One of {@link SignatureRejections}. */
export type SignatureRejection = (typeof SignatureRejections)[keyof typeof SignatureRejections];

/** The outcome of {@link MessageSigner.verify}. */
export type SignatureVerdict = { ok: true } | { ok: false; rejection: SignatureRejection; reason: string };

/** The shortest key accepted, in bytes (of its UTF-8 text): 256 bits, as much as the HMAC gives. */
export const MIN_SIGNING_KEY_BYTES = 32;

/** Options for {@link MessageSigner}. */
export interface MessageSigningOptions {
  /** The shared secret, at least {@link MIN_SIGNING_KEY_BYTES} bytes. */
  key: string;
  /** The name written in `Maestro-Signer` (the service). */
  signer: string;
  /** Largest accepted distance between signing and storing. @default 300000 (5 minutes; covers clock skew) */
  windowMs?: number;
  /** Where signing times come from. @default systemClock */
  clock?: Clock;
}

/** The defaults of {@link MessageSigningOptions}. */
export const MessageSigningDefaults = { windowMs: 5 * 60 * 1000 } as const;

/** v2 added `Nats-Msg-Id` to what is signed; v1 signatures are refused. */
const VERSION = 'v2';

/** Signs outgoing control messages and verifies incoming ones with one shared key. */
export class MessageSigner {
  private readonly key: Buffer;
  readonly signer: string;
  readonly windowMs: number;
  private readonly clock: Clock;
  /** Message id → the stored message it came with (`stream/seq`), and when it may be forgotten. */
  private readonly seen = new Map<string, { where: string; until: number }>();
  /** Subscription and message id of live messages → when they may be forgotten (see {@link verifyLive}). */
  private readonly seenLive = new Map<string, number>();

  constructor(options: MessageSigningOptions) {
    this.key = Buffer.from(options.key, 'utf8');
    if (this.key.length < MIN_SIGNING_KEY_BYTES) {
      throw new RangeError(`the bus signing key must be at least ${MIN_SIGNING_KEY_BYTES} bytes, got ${this.key.length}`);
    }
    this.signer = options.signer;
    this.windowMs = options.windowMs ?? MessageSigningDefaults.windowMs;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Adds the signature headers for `body` published on `subject` (the wire subject, namespace
   * included). A `Nats-Msg-Id` already in `headers` (the publisher's idempotency id) is kept and
   * signed; without one, the fresh message id becomes it, so the stream deduplicates every
   * signed message.
   */
  sign(subject: string, body: Uint8Array | string, headers: MsgHdrs): void {
    const signedAt = String(this.clock.now());
    const messageId = randomUUID();
    for (const name of Object.values(SignatureHeaders)) headers.delete(name);
    if (!headers.has(DEDUP_HEADER) || headers.get(DEDUP_HEADER) === '') headers.set(DEDUP_HEADER, messageId);
    const dedupId = headers.get(DEDUP_HEADER);
    headers.set(SignatureHeaders.signer, this.signer);
    headers.set(SignatureHeaders.signedAt, signedAt);
    headers.set(SignatureHeaders.messageId, messageId);
    headers.set(SignatureHeaders.signature, `${VERSION}=${this.mac(this.signer, subject, signedAt, messageId, dedupId, body)}`);
  }

  /** {@link verify} for a message read from a stream: its stream timestamp and position. */
  verifyStored(msg: StoredMessage): SignatureVerdict {
    return this.verify(msg.subject, msg.data, msg.headers, msg.time.getTime(), `${msg.info.stream}/${msg.info.streamSequence}`);
  }

  /**
   * Checks a stored message: its signature, its signing time against `storedAtMs` (the stream's
   * timestamp), and that its id was not seen on another stored message (`storedAs`, e.g.
   * `stream/seq`; a redelivery of the same stored message is not a replay).
   */
  verify(subject: string, body: Uint8Array, headers: MsgHdrs | undefined, storedAtMs: number, storedAs: string): SignatureVerdict {
    const checked = this.check(subject, body, headers, storedAtMs, 'stored');
    if (!checked.ok) return checked;
    const { messageId, at } = checked;
    this.forgetExpired();
    const before = this.seen.get(messageId);
    if (before !== undefined && before.where !== storedAs) {
      return refuse(SignatureRejections.replayed, `message id ${messageId} was already received as ${before.where}`);
    }
    if (before === undefined) this.seen.set(messageId, { where: storedAs, until: at + 2 * this.windowMs });
    return { ok: true };
  }

  /**
   * Checks a live (core-NATS) message received now on subscription `subscription` (any id unique
   * to one subscription of this process): its signature, its signing time against the clock, and
   * that its id was not received on this subscription before.
   *
   * What identifies a live message is its `Maestro-Message-Id`, the fresh random nonce of each
   * signed publish, scoped to the subscription: core NATS delivers one publish once to each
   * subscription whose subject matches, so two overlapping subscriptions both rightly get it, but
   * the same id twice on one subscription is a captured message published again. Ids are kept
   * until their signing time plus the window, after which the freshness check refuses them anyway.
   * Kept apart from the stored messages' ids: a message both stored and heard live (events are)
   * must pass both checks once each.
   */
  verifyLive(subject: string, body: Uint8Array, headers: MsgHdrs | undefined, subscription: string): SignatureVerdict {
    const now = this.clock.now();
    const checked = this.check(subject, body, headers, now, 'received');
    if (!checked.ok) return checked;
    for (const [id, until] of this.seenLive) {
      if (until >= now) break;
      this.seenLive.delete(id);
    }
    const seenAs = `${subscription}\n${checked.messageId}`;
    if (this.seenLive.has(seenAs)) {
      return refuse(SignatureRejections.replayed, `message id ${checked.messageId} was already received on this subscription`);
    }
    this.seenLive.set(seenAs, checked.at + this.windowMs);
    return { ok: true };
  }

  /** The signature and freshness checks shared by stored and live messages; `atMs` is when it was stored or received. */
  private check(
    subject: string,
    body: Uint8Array,
    headers: MsgHdrs | undefined,
    atMs: number,
    atWhat: 'stored' | 'received',
  ): { ok: true; messageId: string; at: number } | { ok: false; rejection: SignatureRejection; reason: string } {
    const read = (name: string): string | undefined => (headers?.has(name) ? headers.get(name) : undefined);
    const signer = read(SignatureHeaders.signer);
    const signedAt = read(SignatureHeaders.signedAt);
    const messageId = read(SignatureHeaders.messageId);
    const signature = read(SignatureHeaders.signature);
    if (signer === undefined || signedAt === undefined || messageId === undefined || signature === undefined) {
      const missing = Object.values(SignatureHeaders).filter((name) => read(name) === undefined);
      return refuse(SignatureRejections.unsigned, `the message is not signed (missing ${missing.join(', ')})`);
    }
    // A missing Nats-Msg-Id is signed as '' by nobody (sign always sets one), so stripping it fails here.
    const expected = Buffer.from(`${VERSION}=${this.mac(signer, subject, signedAt, messageId, read(DEDUP_HEADER) ?? '', body)}`);
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return refuse(SignatureRejections.badSignature, `the signature of signer ${JSON.stringify(signer)} does not match the message`);
    }
    const at = Number(signedAt);
    if (!/^\d{1,16}$/.test(signedAt) || Math.abs(atMs - at) > this.windowMs) {
      return refuse(
        SignatureRejections.stale,
        `signed at ${/^\d{1,16}$/.test(signedAt) ? new Date(at).toISOString() : JSON.stringify(signedAt)} but ${atWhat} at ${new Date(atMs).toISOString()}, more than ${this.windowMs} ms apart`,
      );
    }
    return { ok: true, messageId, at };
  }

  private mac(signer: string, subject: string, signedAt: string, messageId: string, dedupId: string, body: Uint8Array | string): string {
    const hmac = createHmac('sha256', this.key);
    // Newlines cannot occur in a subject, a header value or a number, so the fields cannot be shifted into each other.
    hmac.update(`${VERSION}\n${signer}\n${subject}\n${signedAt}\n${messageId}\n${dedupId}\n`);
    hmac.update(body);
    return hmac.digest('base64url');
  }

  /** Ids older than the window can no longer pass the freshness check, so they need not be kept. */
  private forgetExpired(): void {
    const now = this.clock.now();
    // Kept in arrival order, which is close to signing order: stop at the first one still live.
    for (const [id, entry] of this.seen) {
      if (entry.until >= now) break;
      this.seen.delete(id);
    }
  }
}

function refuse(rejection: SignatureRejection, reason: string): { ok: false; rejection: SignatureRejection; reason: string } {
  return { ok: false, rejection, reason };
}
