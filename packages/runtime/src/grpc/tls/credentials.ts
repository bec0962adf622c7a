/**
 * grpc-js credentials from a compiled {@link TransportSecurity}: the server requires and
 * verifies a client certificate of the CA; the client presents its own and verifies the
 * server's against the same CA and the name it dials. Under mTLS both are built on the
 * service's `CertificateReloader`, so a rotated CA, certificate or key is used for every new
 * connection without a restart (connections already open keep the certificates they
 * authenticated with).
 */
import { ServerCredentials, credentials, experimental, type ChannelCredentials } from '@grpc/grpc-js';
import type { TransportSecurity } from './transport-security.js';

/** Server credentials: mTLS with client certificates required, or insecure for plaintext. */
export function toServerCredentials(security: TransportSecurity): ServerCredentials {
  if (security.mode === 'plaintext') return ServerCredentials.createInsecure();
  // One provider for both roles: grpc-js 1.14 passes this function's two providers to its
  // constructor in the other order, which only matters when they differ.
  return experimental.createCertificateProviderServerCredentials(security.certificates, security.certificates, true);
}

/** Channel credentials: this service's certificate and key, verifying the server against the CA. */
export function toChannelCredentials(security: TransportSecurity): ChannelCredentials {
  if (security.mode === 'plaintext') return credentials.createInsecure();
  return experimental.createCertificateProviderChannelCredentials(security.certificates, security.certificates);
}
