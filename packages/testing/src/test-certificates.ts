/**
 * A throwaway certificate authority for mTLS tests, made with the `openssl` CLI in a fresh
 * temporary directory: one CA and a certificate per service identity, each naming
 * `spiffe://maestro/<identity>` and valid for localhost / 127.0.0.1. Nothing is committed;
 * `remove()` deletes the directory.
 *
 * @example
 * const pki = createTestCertificates();
 * const security = compileTransportSecurity(toTransportConfig(pki.env('executor')));
 * afterAll(() => pki.remove());
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where one certificate and its key were written. */
export interface TestCertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/** Options of one leaf certificate. */
export interface TestCertificateOptions {
  /** The URI SAN `spiffe://maestro/<identity>`; omitted → the certificate has none. @default the name */
  uriIdentity?: string | null;
  /** Subject CN. @default the name */
  commonName?: string;
  /** DNS SANs besides the IP SAN 127.0.0.1. @default ['localhost'] */
  dnsNames?: readonly string[];
}

/** A temporary CA and the certificates issued by it. */
export interface TestCertificates {
  /** The temporary directory holding every file. */
  readonly dir: string;
  /** The CA certificate's PEM file. */
  readonly caFile: string;
  /** Issues (once per name) a certificate and key for `name`, by default identity `name`. */
  issue(name: string, options?: TestCertificateOptions): TestCertificateFiles;
  /** The three MAESTRO_GRPC_TLS_* variables for `identity`'s certificate (issued if needed). */
  env(identity: string): Record<'MAESTRO_GRPC_TLS_CA' | 'MAESTRO_GRPC_TLS_CERT' | 'MAESTRO_GRPC_TLS_KEY', string>;
  /** Deletes the directory and every key in it. */
  remove(): void;
}

const OPENSSL = process.env['MAESTRO_TEST_OPENSSL'] ?? 'openssl';
/** A P-256 key: quick to generate, accepted by every TLS stack grpc-js uses. */
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: readonly string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates a new CA (distinct from any other call's) in a temporary directory. */
export function createTestCertificates(caName = 'maestro-test-ca'): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-pki-'));
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  openssl(
    ['req', '-x509', ...KEY_ARGS, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=${caName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  const issued = new Map<string, TestCertificateFiles>();
  let serial = 1;

  const issue = (name: string, options: TestCertificateOptions = {}): TestCertificateFiles => {
    const known = issued.get(name);
    if (known) return known;
    const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
    const csr = join(dir, `${name}.csr`);
    const ext = join(dir, `${name}.ext`);
    const uri = options.uriIdentity === undefined ? name : options.uriIdentity;
    const sans = [
      ...(uri !== null ? [`URI:spiffe://maestro/${uri}`] : []),
      ...(options.dnsNames ?? ['localhost']).map((dns) => `DNS:${dns}`),
      'IP:127.0.0.1',
    ];
    writeFileSync(ext, [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${sans.join(',')}`,
      '',
    ].join('\n'));
    openssl(['req', '-new', ...KEY_ARGS, '-keyout', files.key, '-out', csr, '-subj', `/CN=${options.commonName ?? name}`], dir);
    openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', String(serial++), '-days', '2', '-extfile', ext, '-out', files.cert], dir);
    issued.set(name, files);
    return files;
  };

  return {
    dir,
    caFile,
    issue,
    env: (identity) => {
      const files = issue(identity);
      return { MAESTRO_GRPC_TLS_CA: caFile, MAESTRO_GRPC_TLS_CERT: files.cert, MAESTRO_GRPC_TLS_KEY: files.key };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
