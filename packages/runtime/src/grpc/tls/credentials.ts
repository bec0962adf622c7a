/**
 * grpc-js credentials from a compiled {@link TransportSecurity}: the server requires and
 * verifies a client certificate of the CA; the client presents its own and verifies the
 * server's against the same CA and the name it dials.
 */
import { ServerCredentials, credentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { TransportSecurity } from './transport-security.js';

/** Server credentials: mTLS with client certificates required, or insecure for plaintext. */
export function toServerCredentials(security: TransportSecurity): ServerCredentials {
  if (security.mode === 'plaintext') return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(security.ca, [{ cert_chain: security.cert, private_key: security.key }], true);
}

/** Channel credentials: this service's certificate and key, verifying the server against the CA. */
export function toChannelCredentials(security: TransportSecurity): ChannelCredentials {
  if (security.mode === 'plaintext') return credentials.createInsecure();
  return credentials.createSsl(security.ca, security.key, security.cert);
}
