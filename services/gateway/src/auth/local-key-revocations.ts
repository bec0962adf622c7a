/**
 * {@link KeyRevocations} within one process: an announcement reaches this process's listeners
 * only. The gateway's default when it is given no bus (tests, a single replica), and what
 * `BusKeyRevocations` hands each message it receives to.
 */
import type { KeyRevoked } from '@maestro/contracts';
import type { KeyRevocations } from '../ports.js';

/** Key revocations told to the listeners of this process. */
export class LocalKeyRevocations implements KeyRevocations {
  private readonly listeners = new Set<(revocation: KeyRevoked) => void>();

  announce(revocation: KeyRevoked): Promise<void> {
    for (const listener of [...this.listeners]) listener(revocation);
    return Promise.resolve();
  }

  listen(onRevoked: (revocation: KeyRevoked) => void): () => void {
    this.listeners.add(onRevoked);
    return () => {
      this.listeners.delete(onRevoked);
    };
  }
}
