/**
 * How a service's gRPC traffic is secured, compiled once at start from `commonEnv`'s transport
 * variables (Temporal's `compileWorkerOptions`): mutual TLS with this service's certificate
 * and the cluster CA, or — only when asked for explicitly — plaintext for local runs. Under
 * mTLS the files are checked at start (a bad one stops the service) and then re-read every
 * `MAESTRO_GRPC_TLS_REFRESH_S` by a `CertificateReloader`, so a rotation (cert-manager swapping
 * the Secret's files) is used without a restart.
 *
 * @example
 * const config = loadConfig({ ...commonEnv, grpcAddr: grpcAddrEnv.router });
 * const security = compileTransportSecurity(config); // throws ConfigError naming the variable
 * createGrpcServer({ address: config.grpcAddr, logger, serviceNames, security });
 * createGrpcClient(LockServiceClient, config.lockManagerAddr, { security });
 */
import { readFileSync } from 'node:fs';
import type { Clock } from '../../clock.js';
import { commonEnv, ConfigError } from '../../config.js';
import { createLogger, type Logger } from '../../logger.js';
import { backgroundClock } from './background-clock.js';
import { CertificateReloader } from './certificate-reloader.js';
import { loadTlsFiles, TlsFileVariables, type ReadFile } from './tls-files.js';

export type { ReadFile } from './tls-files.js';

/** Mutual TLS: both ends present a certificate of the same CA and verify the other's. */
export interface MtlsTransportSecurity {
  readonly mode: 'mtls';
  /** PEM of the CA (bundle) peers' certificates must chain to: the one in use (last good rotation). */
  readonly ca: Buffer;
  /** PEM of this service's certificate (chain) in use. */
  readonly cert: Buffer;
  /** PEM of this service's private key in use. */
  readonly key: Buffer;
  /** The identity this service's certificate names (`spiffe://maestro/<identity>` or its CN); fixed for the process. */
  readonly identity: string;
  /**
   * The files re-read every `MAESTRO_GRPC_TLS_REFRESH_S` while a server or channel uses them:
   * the one certificate provider behind this service's gRPC credentials.
   */
  readonly certificates: CertificateReloader;
}

/** Plaintext: no encryption and no caller identity. Local runs only. */
export interface PlaintextTransportSecurity {
  readonly mode: 'plaintext';
}

/** A service's compiled gRPC transport security. */
export type TransportSecurity = MtlsTransportSecurity | PlaintextTransportSecurity;

/** The variables the transport security is compiled from, by name. */
export const TransportSecurityVariables = {
  ...TlsFileVariables,
  plaintext: 'MAESTRO_GRPC_PLAINTEXT',
  refresh: 'MAESTRO_GRPC_TLS_REFRESH_S',
} as const;

/** The config fields (from `commonEnv`) {@link compileTransportSecurity} reads. */
export interface TransportSecurityConfig {
  readonly grpcTlsCa: string;
  readonly grpcTlsCert: string;
  readonly grpcTlsKey: string;
  readonly grpcPlaintext: boolean;
  /** Seconds between re-reads of the files. @default commonEnv's `MAESTRO_GRPC_TLS_REFRESH_S` default (60) */
  readonly grpcTlsRefreshS?: number;
}

/** Options for {@link compileTransportSecurity} besides the config. */
export interface TransportSecurityOptions {
  /** Reads a file's bytes. @default readFileSync */
  readFile?: ReadFile;
  /** Schedules the re-reads. @default backgroundClock (the wall clock; a pending re-read keeps no process alive) */
  clock?: Clock;
  /**
   * Where reloads (info) and refused rotations (error) are logged.
   * @default a logger of its own named after the certificate's identity (services compile
   * transport security before their logger exists)
   */
  logger?: Logger;
}

/** Plaintext transport, for tests and local tools that build their own. */
export const PLAINTEXT: PlaintextTransportSecurity = Object.freeze({ mode: 'plaintext' });

/** The warning every plaintext server logs at start. */
export const PLAINTEXT_WARNING = 'gRPC is plaintext without caller identity: for local runs only';

/**
 * Validates the transport variables and loads the PEM files. Certificates configured → mTLS
 * (the files then re-read every `MAESTRO_GRPC_TLS_REFRESH_S` while in use, see
 * `CertificateReloader`); none and `MAESTRO_GRPC_PLAINTEXT=true` → plaintext; none and no
 * plaintext, both, only some of the three files, or a file that cannot be read or parsed → a
 * `ConfigError` naming every offending variable, so the service refuses to start.
 */
export function compileTransportSecurity(config: TransportSecurityConfig, options: TransportSecurityOptions = {}): TransportSecurity {
  const V = TransportSecurityVariables;
  const paths = { ca: config.grpcTlsCa.trim(), cert: config.grpcTlsCert.trim(), key: config.grpcTlsKey.trim() };
  const given = (['ca', 'cert', 'key'] as const).filter((k) => paths[k] !== '');
  if (given.length === 0) {
    if (config.grpcPlaintext) return PLAINTEXT;
    const problem = `is required: gRPC runs over mTLS with ${V.ca}, ${V.cert} and ${V.key} (PEM files); set ${V.plaintext}=true only for a local plaintext run`;
    throw new ConfigError([V.ca, V.cert, V.key].map((variable) => ({ variable, problem })));
  }
  const problems: Array<{ variable: string; problem: string }> = [];
  if (config.grpcPlaintext) {
    problems.push({ variable: V.plaintext, problem: `cannot be true while certificates are configured (${given.map((k) => V[k]).join(', ')}): choose mTLS or plaintext` });
  }
  for (const k of ['ca', 'cert', 'key'] as const) {
    if (paths[k] === '') problems.push({ variable: V[k], problem: `is required when ${given.map((g) => V[g]).join(', ')} ${given.length === 1 ? 'is' : 'are'} set (mTLS needs the CA, the certificate and its key)` });
  }
  const refreshS = refreshSeconds(config, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const readFile = options.readFile ?? readFileSync;
  const loaded = loadTlsFiles(paths, readFile);
  if (!loaded.ok) throw new ConfigError(loaded.problems.map(({ variable, problem }) => ({ variable, problem })));
  const initial = loaded.material;
  const certificates = new CertificateReloader({
    paths,
    initial,
    refreshMs: refreshS * 1000,
    clock: options.clock ?? backgroundClock,
    logger: options.logger ?? lazyLogger(initial.identity),
    readFile,
  });
  return Object.freeze({
    mode: 'mtls',
    get ca() {
      return certificates.material.ca;
    },
    get cert() {
      return certificates.material.cert;
    },
    get key() {
      return certificates.material.key;
    },
    identity: initial.identity,
    certificates,
  });
}

/** The refresh interval, checked by commonEnv's own rule when a caller passes it directly. */
function refreshSeconds(config: TransportSecurityConfig, problems: Array<{ variable: string; problem: string }>): number {
  const spec = commonEnv.grpcTlsRefreshS;
  const fallback = spec.default as number; // declared with a default in commonEnv
  if (config.grpcTlsRefreshS === undefined) return fallback;
  try {
    return spec.parse(String(config.grpcTlsRefreshS));
  } catch (err) {
    problems.push({ variable: spec.name, problem: err instanceof Error ? err.message : String(err) });
    return fallback;
  }
}

/** A logger created on first use, so compiling (and every test that does) opens no stream. */
function lazyLogger(service: string): Logger {
  let logger: Logger | undefined;
  const get = (): Logger => (logger ??= createLogger({ service }).child({ component: 'grpc-tls' }));
  return {
    debug: (message, fields) => get().debug(message, fields),
    info: (message, fields) => get().info(message, fields),
    warn: (message, fields) => get().warn(message, fields),
    error: (message, fields) => get().error(message, fields),
    child: (bindings) => get().child(bindings),
  };
}
