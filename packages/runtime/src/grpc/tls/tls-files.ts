/**
 * Reading and checking the three mTLS PEM files (CA, certificate, key) in one place, for the
 * check at start (`compileTransportSecurity`, which turns problems into a `ConfigError`) and
 * for every reload after a rotation (`CertificateReloader`, which keeps the last good set).
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { identityOf } from './service-identity.js';

/** The variables naming the three files, by file. */
export const TlsFileVariables = {
  ca: 'MAESTRO_GRPC_TLS_CA',
  cert: 'MAESTRO_GRPC_TLS_CERT',
  key: 'MAESTRO_GRPC_TLS_KEY',
} as const;

/** Where the three PEM files are. */
export interface TlsFilePaths {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** A checked set of files: the key belongs to the certificate and the certificate names an identity. */
export interface TlsMaterial {
  /** PEM of the CA (bundle) peers' certificates must chain to. */
  readonly ca: Buffer;
  /** PEM of this service's certificate (chain). */
  readonly cert: Buffer;
  /** PEM of this service's private key. */
  readonly key: Buffer;
  /** The identity the certificate names (`spiffe://maestro/<identity>` or its CN). */
  readonly identity: string;
  /** SHA-256 fingerprint of the certificate (`AB:CD:…`), to tell one rotation from the next in logs. */
  readonly fingerprint: string;
  /** The certificate's serial number (hex). */
  readonly serialNumber: string;
  /** When the certificate expires (its `validTo`). */
  readonly validTo: string;
}

/** One thing wrong with one file. */
export interface TlsFileProblem {
  readonly variable: string;
  readonly path: string;
  readonly problem: string;
}

/** Reads a file's bytes; injected by tests. */
export type ReadFile = (path: string) => Buffer;

/** The outcome of {@link loadTlsFiles}: the material, or every problem found. */
export type TlsFilesResult =
  | { readonly ok: true; readonly material: TlsMaterial }
  | { readonly ok: false; readonly problems: readonly TlsFileProblem[] };

function readPem(variable: string, path: string, readFile: ReadFile, problems: TlsFileProblem[]): Buffer | undefined {
  try {
    return readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push({ variable, path, problem: `cannot read "${path}" (${code ?? (err instanceof Error ? err.message : String(err))})` });
    return undefined;
  }
}

function parseCertificate(variable: string, path: string, pem: Buffer, problems: TlsFileProblem[]): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    problems.push({ variable, path, problem: `"${path}" is not a PEM certificate` });
    return undefined;
  }
}

function parseKey(path: string, pem: Buffer, problems: TlsFileProblem[]): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    problems.push({ variable: TlsFileVariables.key, path, problem: `"${path}" is not a PEM private key (unencrypted)` });
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
 * Reads the three files and checks them: each readable, the CA and certificate PEM
 * certificates, the key an unencrypted PEM key that belongs to the certificate, and the
 * certificate naming an identity. A file caught half-written fails one of these checks.
 */
export function loadTlsFiles(paths: TlsFilePaths, readFile: ReadFile): TlsFilesResult {
  const V = TlsFileVariables;
  const problems: TlsFileProblem[] = [];
  const ca = readPem(V.ca, paths.ca, readFile, problems);
  const cert = readPem(V.cert, paths.cert, readFile, problems);
  const key = readPem(V.key, paths.key, readFile, problems);
  if (ca) parseCertificate(V.ca, paths.ca, ca, problems);
  const certificate = cert ? parseCertificate(V.cert, paths.cert, cert, problems) : undefined;
  const privateKey = key ? parseKey(paths.key, key, problems) : undefined;
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey)) {
    problems.push({ variable: V.key, path: paths.key, problem: `"${paths.key}" is not the private key of the certificate in ${V.cert}` });
  }
  const identity = certificate
    ? identityOf({ subjectaltname: certificate.subjectAltName ?? '', subject: subjectFields(certificate.subject) })
    : undefined;
  if (certificate && identity === undefined) {
    problems.push({ variable: V.cert, path: paths.cert, problem: `"${paths.cert}" names no identity: give it a URI SAN spiffe://maestro/<service> (or a subject CN)` });
  }
  if (problems.length === 0 && ca && cert && key) {
    // What grpc-js will do with them: a file whose first PEM block is fine but whose rest is
    // broken (a bundle cut short) passes the checks above and fails only here.
    try {
      createSecureContext({ ca, cert, key });
    } catch (err) {
      problems.push({ variable: V.cert, path: paths.cert, problem: `TLS cannot use ${V.ca}, ${V.cert} and ${V.key} together (${err instanceof Error ? err.message : String(err)})` });
    }
  }
  if (problems.length > 0 || !ca || !cert || !key || !certificate || identity === undefined) return { ok: false, problems };
  return {
    ok: true,
    material: Object.freeze({
      ca,
      cert,
      key,
      identity,
      fingerprint: certificate.fingerprint256,
      serialNumber: certificate.serialNumber,
      validTo: certificate.validTo,
    }),
  };
}
