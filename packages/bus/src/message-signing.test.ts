import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { ConfigError, ManualClock } from '@maestro/runtime';
import { busSigningFrom } from './bus-signing.js';
import { DEDUP_HEADER, MessageSigner, SignatureHeaders, SignatureRejections } from './message-signing.js';

const key = 'k'.repeat(32);
const subject = 'maestro.results.subtask';
const body = new TextEncoder().encode(JSON.stringify({ workId: 'w1', ok: true }));
const t0 = Date.parse('2026-01-01T00:00:00Z');

function signed(signer: MessageSigner, on = subject, data: Uint8Array = body): MsgHdrs {
  const headers = createHeaders();
  signer.sign(on, data, headers);
  return headers;
}

describe('MessageSigner', () => {
  let clock: ManualClock;
  let signer: MessageSigner;
  let verifier: MessageSigner;
  beforeEach(() => {
    clock = new ManualClock(t0);
    signer = new MessageSigner({ key, signer: 'executor-1', clock });
    verifier = new MessageSigner({ key, signer: 'orchestrator', clock });
  });

  it('accepts what it signed, and a redelivery of the same stored message', () => {
    const headers = signed(signer);
    expect(headers.get(SignatureHeaders.signer)).toBe('executor-1');
    expect(headers.get(SignatureHeaders.signature)).toMatch(/^v2=[A-Za-z0-9_-]{43}$/);
    expect(verifier.verify(subject, body, headers, t0 + 1000, 'S/1')).toEqual({ ok: true });
    expect(verifier.verify(subject, body, headers, t0 + 1000, 'S/1')).toEqual({ ok: true });
  });

  it('gives every signed message a deduplication id the signature covers: its own message id, or the publisher\'s', () => {
    const fresh = signed(signer);
    expect(fresh.get(DEDUP_HEADER)).toBe(fresh.get(SignatureHeaders.messageId));
    const own = createHeaders();
    own.set(DEDUP_HEADER, 'work-42');
    signer.sign(subject, body, own);
    expect(own.get(DEDUP_HEADER)).toBe('work-42');
    expect(verifier.verify(subject, body, own, t0, 'S/1')).toEqual({ ok: true });

    // A replay with another Nats-Msg-Id (to get past the stream's deduplication) or none fails the signature.
    const renamed = signed(signer);
    renamed.set(DEDUP_HEADER, 'something-else');
    expect(verifier.verify(subject, body, renamed, t0, 'S/2')).toMatchObject({ ok: false, rejection: SignatureRejections.badSignature });
    const stripped = signed(signer);
    stripped.delete(DEDUP_HEADER);
    expect(verifier.verify(subject, body, stripped, t0, 'S/3')).toMatchObject({ ok: false, rejection: 'BAD_SIGNATURE' });
  });

  it('refuses a message without signature headers as UNSIGNED', () => {
    expect(verifier.verify(subject, body, undefined, t0, 'S/1')).toMatchObject({ ok: false, rejection: SignatureRejections.unsigned });
    const partial = signed(signer);
    partial.delete(SignatureHeaders.signature);
    expect(verifier.verify(subject, body, partial, t0, 'S/1')).toMatchObject({ ok: false, rejection: 'UNSIGNED', reason: expect.stringContaining('Maestro-Signature') });
  });

  it('refuses a tampered body, another subject, a changed header or another key as BAD_SIGNATURE', () => {
    const headers = signed(signer);
    const tampered = new TextEncoder().encode(JSON.stringify({ workId: 'w1', ok: false }));
    expect(verifier.verify(subject, tampered, headers, t0, 'S/1')).toMatchObject({ ok: false, rejection: SignatureRejections.badSignature });
    expect(verifier.verify('maestro.escalations.t1', body, headers, t0, 'S/1')).toMatchObject({ ok: false, rejection: 'BAD_SIGNATURE' });
    const relabelled = signed(signer);
    relabelled.set(SignatureHeaders.signer, 'orchestrator');
    expect(verifier.verify(subject, body, relabelled, t0, 'S/1')).toMatchObject({ ok: false, rejection: 'BAD_SIGNATURE' });
    const moved = signed(signer);
    moved.set(SignatureHeaders.signedAt, String(t0 + 1));
    expect(verifier.verify(subject, body, moved, t0, 'S/1')).toMatchObject({ ok: false, rejection: 'BAD_SIGNATURE' });
    const stranger = new MessageSigner({ key: 'x'.repeat(32), signer: 'executor-1', clock });
    expect(verifier.verify(subject, body, signed(stranger), t0, 'S/1')).toMatchObject({ ok: false, rejection: 'BAD_SIGNATURE' });
  });

  it('refuses a message stored too long after (or before) it was signed as STALE', () => {
    const headers = signed(signer);
    const window = verifier.windowMs;
    expect(verifier.verify(subject, body, headers, t0 + window, 'S/1')).toEqual({ ok: true });
    expect(verifier.verify(subject, body, signed(signer), t0 + window + 1, 'S/2')).toMatchObject({ ok: false, rejection: SignatureRejections.stale });
    expect(verifier.verify(subject, body, signed(signer), t0 - window - 1, 'S/3')).toMatchObject({ ok: false, rejection: 'STALE' });
  });

  it('refuses the same signed message stored a second time inside the window as REPLAYED', () => {
    const headers = signed(signer);
    expect(verifier.verify(subject, body, headers, t0 + 10, 'S/1')).toEqual({ ok: true });
    expect(verifier.verify(subject, body, headers, t0 + 20, 'S/2')).toMatchObject({ ok: false, rejection: SignatureRejections.replayed });
  });

  it('forgets ids once they could only be stale, and still refuses their replay as STALE', () => {
    const headers = signed(signer);
    expect(verifier.verify(subject, body, headers, t0, 'S/1')).toEqual({ ok: true });
    clock.advance(3 * verifier.windowMs);
    expect(verifier.verify(subject, body, headers, clock.now(), 'S/2')).toMatchObject({ ok: false, rejection: 'STALE' });
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => new MessageSigner({ key: 'short', signer: 'x' })).toThrow(/at least 32 bytes/);
  });
});

describe('MessageSigner.verifyLive', () => {
  let clock: ManualClock;
  let signer: MessageSigner;
  let verifier: MessageSigner;
  beforeEach(() => {
    clock = new ManualClock(t0);
    signer = new MessageSigner({ key, signer: 'orchestrator', clock });
    verifier = new MessageSigner({ key, signer: 'executor-1', clock });
  });

  it('accepts a signed message once per subscription, and refuses it again on the same one as REPLAYED', () => {
    const headers = signed(signer);
    expect(verifier.verifyLive(subject, body, headers, 'live-1')).toEqual({ ok: true });
    expect(verifier.verifyLive(subject, body, headers, 'live-2')).toEqual({ ok: true });
    expect(verifier.verifyLive(subject, body, headers, 'live-1')).toMatchObject({ ok: false, rejection: SignatureRejections.replayed });
  });

  it('refuses unsigned, forged, tampered and stale live messages', () => {
    expect(verifier.verifyLive(subject, body, undefined, 'live-1')).toMatchObject({ ok: false, rejection: 'UNSIGNED' });
    const stranger = new MessageSigner({ key: 'x'.repeat(32), signer: 'orchestrator', clock });
    expect(verifier.verifyLive(subject, body, signed(stranger), 'live-1')).toMatchObject({ ok: false, rejection: 'BAD_SIGNATURE' });
    const tampered = new TextEncoder().encode(JSON.stringify({ workId: 'w1', ok: false }));
    expect(verifier.verifyLive(subject, tampered, signed(signer), 'live-1')).toMatchObject({ ok: false, rejection: 'BAD_SIGNATURE' });
    const old = signed(signer);
    clock.advance(verifier.windowMs + 1);
    expect(verifier.verifyLive(subject, body, old, 'live-1')).toMatchObject({ ok: false, rejection: 'STALE', reason: expect.stringContaining('received at') });
  });

  it('keeps live and stored sightings apart: an event both stored and heard live passes each check once', () => {
    const headers = signed(signer);
    expect(verifier.verify(subject, body, headers, t0, 'EVENTS/7')).toEqual({ ok: true });
    expect(verifier.verifyLive(subject, body, headers, 'live-1')).toEqual({ ok: true });
    expect(verifier.verify(subject, body, headers, t0, 'EVENTS/7')).toEqual({ ok: true });
  });

  it('forgets live ids once they could only be stale, and still refuses their replay as STALE', () => {
    const headers = signed(signer);
    expect(verifier.verifyLive(subject, body, headers, 'live-1')).toEqual({ ok: true });
    clock.advance(verifier.windowMs + 1);
    expect(verifier.verifyLive(subject, body, signed(signer), 'live-1')).toEqual({ ok: true });
    expect(verifier.verifyLive(subject, body, headers, 'live-1')).toMatchObject({ ok: false, rejection: 'STALE' });
  });
});

describe('busSigningFrom', () => {
  it('takes the key, or unsigned when asked, and otherwise stops the service naming the variable', () => {
    expect(busSigningFrom({ busSigningKey: key, busUnsigned: false })).toEqual({ key });
    expect(busSigningFrom({ busSigningKey: '', busUnsigned: true })).toEqual({ unsigned: true });
    expect(() => busSigningFrom({ busSigningKey: '', busUnsigned: false })).toThrow(ConfigError);
    expect(() => busSigningFrom({ busSigningKey: '', busUnsigned: false })).toThrow(/MAESTRO_BUS_SIGNING_KEY: is required/);
    expect(() => busSigningFrom({ busSigningKey: 'too-short', busUnsigned: false })).toThrow(/MAESTRO_BUS_SIGNING_KEY: must be at least 32 bytes/);
  });
});
