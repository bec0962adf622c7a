/**
 * {@link KeyRevocations} over NATS: an announcement is one live (core NATS) message on
 * `maestro.gateway.keys.revoked`, signed like every live message when the bus signs; every
 * gateway replica subscribes once at start. Nothing stores it: a replica that is disconnected
 * when a key is revoked ends that key's streams at their next heartbeat re-check instead.
 */
import { KeyRevokedSchema, Subjects, type KeyRevoked } from '@maestro/contracts';
import type { Bus } from '@maestro/bus';
import type { KeyRevocations } from '../../ports.js';
import { LocalKeyRevocations } from '../../auth/local-key-revocations.js';

/** Key revocations told to every replica over the bus. */
export class BusKeyRevocations implements KeyRevocations {
  private readonly local = new LocalKeyRevocations();
  private readonly subscription: { unsubscribe(): void };

  /** Subscribes at once; {@link close} unsubscribes. */
  constructor(private readonly bus: Pick<Bus, 'publishLive' | 'subscribe'>) {
    this.subscription = bus.subscribe(Subjects.keyRevoked, KeyRevokedSchema, (revocation) => void this.local.announce(revocation));
  }

  announce(revocation: KeyRevoked): Promise<void> {
    // Synchronous: it throws only when the connection is closed.
    return new Promise((resolve) => {
      this.bus.publishLive(Subjects.keyRevoked, revocation);
      resolve();
    });
  }

  listen(onRevoked: (revocation: KeyRevoked) => void): () => void {
    return this.local.listen(onRevoked);
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}
