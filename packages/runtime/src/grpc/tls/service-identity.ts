/**
 * Service identities: who a peer is, read from its certificate. Every service certificate
 * carries a SPIFFE-style URI SAN `spiffe://maestro/<service>`; a certificate without one is
 * known by its subject CN instead (hand-made or older certificates).
 */
/** The identities the call table knows: the seven services plus `admin` for operators and the CLI. */
export const ServiceIdentities = {
  gateway: 'gateway',
  orchestrator: 'orchestrator',
  workflowEngine: 'workflow-engine',
  router: 'router',
  lockManager: 'lock-manager',
  memory: 'memory',
  executor: 'executor',
  admin: 'admin',
} as const;

/** One of {@link ServiceIdentities}. */
export type ServiceIdentity = (typeof ServiceIdentities)[keyof typeof ServiceIdentities];

/** The SPIFFE trust domain of every maestro certificate. */
export const SPIFFE_TRUST_DOMAIN = 'maestro';

/** The URI SAN a certificate for `identity` carries, e.g. `spiffe://maestro/executor`. */
export function toSpiffeId(identity: string): string {
  return `spiffe://${SPIFFE_TRUST_DOMAIN}/${identity}`;
}

const spiffeSan = new RegExp(`(?:^|,\\s*)URI:spiffe://${SPIFFE_TRUST_DOMAIN}/([A-Za-z0-9._-]+)(?=,|$)`);

/** The parts of a certificate (Node's `PeerCertificate` shape) an identity is read from. */
export interface CertificateNames {
  readonly subject?: { readonly CN?: string | readonly string[] } | undefined;
  readonly subjectaltname?: string | undefined;
}

/**
 * The identity a certificate names: its `spiffe://maestro/<name>` URI SAN, else its subject
 * CN, else undefined. `subjectaltname` is Node's text form (`URI:…, DNS:…, IP Address:…`).
 */
export function identityOf(certificate: CertificateNames | undefined): string | undefined {
  if (!certificate) return undefined;
  const san = spiffeSan.exec(certificate.subjectaltname ?? '');
  if (san?.[1]) return san[1];
  const cn = certificate.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return name !== undefined && name !== '' ? name : undefined;
}
