/**
 * How a service's gRPC traffic is secured, compiled once at start from `commonEnv`'s four
 * variables (Temporal's `compileWorkerOptions`): mutual TLS with this service's certificate
 * and the cluster CA, or — only when asked for explicitly — plaintext for local runs.
 *
 * @example
 * const config = loadConfig({ ...commonEnv, grpcAddr: grpcAddrEnv.router });
 * const security = compileTransportSecurity(config); // throws ConfigError naming the variable
 * createGrpcServer({ address: config.grpcAddr, logger, serviceNames, security });
 * createGrpcClient(LockServiceClient, config.lockManagerAddr, { security });
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config.js';
import { identityOf } from './service-identity.js';

/** Mutual TLS: both ends present a certificate of the same CA and verify the other's. */
export interface MtlsTransportSecurity {
  readonly mode: 'mtls';
  /** PEM of the CA (bundle) peers' certificates must chain to. */
  readonly ca: Buffer;
  /** PEM of this service's certificate (chain). */
  readonly cert: Buffer;
  /** PEM of this service's private key. */
  readonly key: Buffer;
  /** The identity this service's certificate names (`spiffe://maestro/<identity>` or its CN). */
  readonly identity: string;
}

/** Plaintext: no encryption and no caller identity. Local runs only. */
export interface PlaintextTransportSecurity {
  readonly mode: 'plaintext';
}

/** A service's compiled gRPC transport security. */
export type TransportSecurity = MtlsTransportSecurity | PlaintextTransportSecurity;

/** The variables the transport security is compiled from, by name. */
export const TransportSecurityVariables = {
  ca: 'MAESTRO_GRPC_TLS_CA',
  cert: 'MAESTRO_GRPC_TLS_CERT',
  key: 'MAESTRO_GRPC_TLS_KEY',
  plaintext: 'MAESTRO_GRPC_PLAINTEXT',
} as const;

/** The config fields (from `commonEnv`) {@link compileTransportSecurity} reads. */
export interface TransportSecurityConfig {
  readonly grpcTlsCa: string;
  readonly grpcTlsCert: string;
  readonly grpcTlsKey: string;
  readonly grpcPlaintext: boolean;
}

/** Plaintext transport, for tests and local tools that build their own. */
export const PLAINTEXT: PlaintextTransportSecurity = Object.freeze({ mode: 'plaintext' });

/** The warning every plaintext server logs at start. */
export const PLAINTEXT_WARNING = 'gRPC is plaintext without caller identity: for local runs only';

/** Reads a file's bytes; injected by tests. */
export type ReadFile = (path: string) => Buffer;

type Problem = { variable: string; problem: string };

function readPem(variable: string, path: string, readFile: ReadFile, problems: Problem[]): Buffer | undefined {
  try {
    return readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push({ variable, problem: `cannot read "${path}" (${code ?? (err instanceof Error ? err.message : String(err))})` });
    return undefined;
  }
}

function parseCertificate(variable: string, path: string, pem: Buffer, problems: Problem[]): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    problems.push({ variable, problem: `"${path}" is not a PEM certificate` });
    return undefined;
  }
}

function parseKey(path: string, pem: Buffer, problems: Problem[]): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    problems.push({ variable: TransportSecurityVariables.key, problem: `"${path}" is not a PEM private key (unencrypted)` });
    return undefined;
  }
}

/** `CN=executor\nO=maestro` (X509Certificate.subject) → `{ CN: 'executor', O: 'maestro' }`. */
function subjectFields(subject: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of subject.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

/**
 * Validates the four transport variables and loads the PEM files. Certificates configured →
 * mTLS; none and `MAESTRO_GRPC_PLAINTEXT=true` → plaintext; none and no plaintext, both, only
 * some of the three files, or a file that cannot be read or parsed → a `ConfigError` naming
 * every offending variable, so the service refuses to start.
 */
export function compileTransportSecurity(config: TransportSecurityConfig, readFile: ReadFile = readFileSync): TransportSecurity {
  const V = TransportSecurityVariables;
  const paths = { ca: config.grpcTlsCa.trim(), cert: config.grpcTlsCert.trim(), key: config.grpcTlsKey.trim() };
  const given = (['ca', 'cert', 'key'] as const).filter((k) => paths[k] !== '');
  if (given.length === 0) {
    if (config.grpcPlaintext) return PLAINTEXT;
    const problem = `is required: gRPC runs over mTLS with ${V.ca}, ${V.cert} and ${V.key} (PEM files); set ${V.plaintext}=true only for a local plaintext run`;
    throw new ConfigError([V.ca, V.cert, V.key].map((variable) => ({ variable, problem })));
  }
  const problems: Problem[] = [];
  if (config.grpcPlaintext) {
    problems.push({ variable: V.plaintext, problem: `cannot be true while certificates are configured (${given.map((k) => V[k]).join(', ')}): choose mTLS or plaintext` });
  }
  for (const k of ['ca', 'cert', 'key'] as const) {
    if (paths[k] === '') problems.push({ variable: V[k], problem: `is required when ${given.map((g) => V[g]).join(', ')} ${given.length === 1 ? 'is' : 'are'} set (mTLS needs the CA, the certificate and its key)` });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const ca = readPem(V.ca, paths.ca, readFile, problems);
  const cert = readPem(V.cert, paths.cert, readFile, problems);
  const key = readPem(V.key, paths.key, readFile, problems);
  if (ca) parseCertificate(V.ca, paths.ca, ca, problems);
  const certificate = cert ? parseCertificate(V.cert, paths.cert, cert, problems) : undefined;
  const privateKey = key ? parseKey(paths.key, key, problems) : undefined;
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push({ variable: V.key, problem: `"${paths.key}" is not the private key of the certificate in ${V.cert}` });
  }
  const identity = certificate
    ? identityOf({ subjectaltname: certificate.subjectAltName ?? '', subject: subjectFields(certificate.subject) })
    : undefined;
  if (certificate && identity === undefined) {
    problems.push({ variable: V.cert, problem: `"${paths.cert}" names no identity: give it a URI SAN spiffe://maestro/<service> (or a subject CN)` });
  }
  if (problems.length > 0 || !ca || !cert || !key || identity === undefined) throw new ConfigError(problems);
  return Object.freeze({ mode: 'mtls', ca, cert, key, identity });
}
