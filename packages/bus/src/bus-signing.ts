/**
 * How a service's bus signs: with the shared key, or (local runs only, said at start) not at
 * all. Compiled once from the service's config, so a production service without a key stops at
 * start naming the variable instead of running with forgeable control messages.
 */
import { ConfigError } from '@maestro/runtime';
import { MIN_SIGNING_KEY_BYTES } from './message-signing.js';

/** The bus's signing mode: a shared key, or explicitly none. */
export type BusSigning = { key: string; windowMs?: number } | { unsigned: true };

/** The config fields {@link busSigningFrom} reads (`commonEnv.busSigningKey`, `commonEnv.busUnsigned`). */
export interface BusSigningConfig {
  busSigningKey: string;
  busUnsigned: boolean;
}

/**
 * The signing mode of `config`, or a `ConfigError` naming `MAESTRO_BUS_SIGNING_KEY` when there
 * is no key (and `MAESTRO_BUS_UNSIGNED` is not set) or the key is shorter than 32 bytes.
 *
 * @example
 * const bus = await connectBus({ url: config.natsUrl, name: 'router', logger, signing: busSigningFrom(config) });
 */
export function busSigningFrom(config: BusSigningConfig): BusSigning {
  const key = config.busSigningKey;
  if (key !== '') {
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes < MIN_SIGNING_KEY_BYTES) {
      throw new ConfigError([{ variable: 'MAESTRO_BUS_SIGNING_KEY', problem: `must be at least ${MIN_SIGNING_KEY_BYTES} bytes (got ${bytes}); generate one with: openssl rand -base64 32` }]);
    }
    return { key };
  }
  if (config.busUnsigned) return { unsigned: true };
  throw new ConfigError([
    {
      variable: 'MAESTRO_BUS_SIGNING_KEY',
      problem:
        'is required: NATS control messages (work, results, escalations) are signed with it. Set the same secret (at least 32 bytes) on every service, ' +
        'or MAESTRO_BUS_UNSIGNED=true for a local run',
    },
  ]);
}
