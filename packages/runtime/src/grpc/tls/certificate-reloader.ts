/**
 * Certificates that follow a rotation without a restart: a grpc-js `CertificateProvider`
 * that re-reads the three PEM files on the `Clock` every refresh interval while a server or
 * channel listens, and hands a new set to grpc-js only once it checks out (see `loadTlsFiles`).
 * A broken rotation (a key of another certificate, a half-written or unreadable file, another
 * identity) keeps the last good set and is logged once at error, naming the file.
 *
 * grpc-js's own `FileWatcherCertificateProvider` is not used: it passes on whatever it read
 * (a mismatched pair makes the server drop every connection) and forgets the last good set
 * when a read fails; it also runs on its own `setInterval`, not the injected clock.
 *
 * @example
 * const reloader = new CertificateReloader({ paths, initial, refreshMs: 60_000, clock, logger });
 * experimental.createCertificateProviderServerCredentials(reloader, reloader, true);
 */
import type {
  experimental,
} from '@grpc/grpc-js';
import { OperationalError } from '../../errors.js';
import type { Clock, Timer } from '../../clock.js';
import type { Logger } from '../../logger.js';
import { loadTlsFiles, type ReadFile, type TlsFilePaths, type TlsFileProblem, type TlsMaterial } from './tls-files.js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** Codes of a rotation that was not taken (on the error logged). */
export const CertificateReloadErrorCodes = {
  /** A file could not be read, or its content is not what it should be (a key of another certificate, a half-written PEM). */
  TLS_FILES_INVALID: 'TLS_FILES_INVALID',
  /** The new certificate names another identity than the one the service started with. */
  TLS_IDENTITY_CHANGED: 'TLS_IDENTITY_CHANGED',
} as const;

/** Options for {@link CertificateReloader}. */
export interface CertificateReloaderOptions {
  /** The files, as configured. */
  readonly paths: TlsFilePaths;
  /** The set read and checked at start. */
  readonly initial: TlsMaterial;
  /** How often the files are read again while someone listens (`MAESTRO_GRPC_TLS_REFRESH_S`). */
  readonly refreshMs: number;
  readonly clock: Clock;
  /** Where reloads (info) and refused rotations (error) are logged. */
  readonly logger: Logger;
  readonly readFile: ReadFile;
}

/** What one {@link CertificateReloader.refresh} did. */
export type RefreshOutcome = 'unchanged' | 'reloaded' | 'kept';

function sameFiles(a: Pick<TlsMaterial, 'ca' | 'cert' | 'key'>, b: Pick<TlsMaterial, 'ca' | 'cert' | 'key'>): boolean {
  return a.ca.equals(b.ca) && a.cert.equals(b.cert) && a.key.equals(b.key);
}

/**
 * The mTLS files of one service, reloaded on the clock while grpc-js listens; the one
 * `CertificateProvider` behind both its server and its channels.
 */
export class CertificateReloader implements experimental.CertificateProvider {
  private current: TlsMaterial;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private timer: Timer | undefined;
  /** The refused rotation last logged, so the same broken files are logged once. */
  private lastRefusal: string | undefined;

  constructor(private readonly options: CertificateReloaderOptions) {
    this.current = options.initial;
  }

  /** The set in use: the files at start, or the last good rotation. */
  get material(): TlsMaterial {
    return this.current;
  }

  /**
   * Reads the files now. Unchanged bytes → nothing; a set that checks out → taken and pushed to
   * every listener; anything else → the last good set stays and the problem is logged (once per
   * distinct problem). Never throws.
   */
  refresh(): RefreshOutcome {
    const { paths, readFile, logger } = this.options;
    let result: ReturnType<typeof loadTlsFiles>;
    try {
      result = loadTlsFiles(paths, readFile);
    } catch (err) {
      // loadTlsFiles reports problems rather than throwing; this is a bug guard, not a path.
      this.refuse([{ variable: '', path: paths.cert, problem: err instanceof Error ? err.message : String(err) }], CertificateReloadErrorCodes.TLS_FILES_INVALID);
      return 'kept';
    }
    if (!result.ok) {
      this.refuse(result.problems, CertificateReloadErrorCodes.TLS_FILES_INVALID);
      return 'kept';
    }
    const next = result.material;
    if (sameFiles(next, this.current)) {
      this.lastRefusal = undefined;
      return 'unchanged';
    }
    if (next.identity !== this.current.identity) {
      const problem = `"${paths.cert}" names identity "${next.identity}", not "${this.current.identity}" as at start: restart the service to change its identity`;
      this.refuse([{ variable: 'MAESTRO_GRPC_TLS_CERT', path: paths.cert, problem }], CertificateReloadErrorCodes.TLS_IDENTITY_CHANGED);
      return 'kept';
    }
    const previous = this.current;
    this.current = next;
    this.lastRefusal = undefined;
    logger.info('gRPC TLS certificates reloaded', {
      identity: next.identity,
      fingerprint: next.fingerprint,
      serialNumber: next.serialNumber,
      validTo: next.validTo,
      previousFingerprint: previous.fingerprint,
      caChanged: !next.ca.equals(previous.ca),
    });
    for (const listener of this.caListeners) listener({ caCertificate: next.ca });
    for (const listener of this.identityListeners) listener({ certificate: next.cert, privateKey: next.key });
    return 'reloaded';
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    this.watch();
    // grpc-js registers its listener before its watchers; an answer in the same tick would be missed.
    queueMicrotask(() => {
      if (this.caListeners.has(listener)) listener({ caCertificate: this.current.ca });
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
    this.unwatchIfIdle();
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    this.watch();
    queueMicrotask(() => {
      if (this.identityListeners.has(listener)) listener({ certificate: this.current.cert, privateKey: this.current.key });
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
    this.unwatchIfIdle();
  }

  /** Whether the files are being watched (someone listens). */
  get watching(): boolean {
    return this.timer !== undefined;
  }

  private refuse(problems: readonly TlsFileProblem[], code: string): void {
    const message = `gRPC TLS files not reloaded: ${problems.map((p) => p.problem).join('; ')}`;
    if (message === this.lastRefusal) return;
    this.lastRefusal = message;
    const files = [...new Set(problems.map((p) => p.path))];
    this.options.logger.error('gRPC TLS rotation refused; keeping the last good certificates', {
      err: new OperationalError(code, message, { details: { files } }),
      file: files[0],
      files,
      fingerprint: this.current.fingerprint,
      validTo: this.current.validTo,
    });
  }

  private watch(): void {
    if (this.timer !== undefined) return;
    this.timer = this.options.clock.setTimer(this.options.refreshMs, () => {
      this.timer = undefined;
      if (this.caListeners.size === 0 && this.identityListeners.size === 0) return;
      this.refresh();
      this.watch();
    });
  }

  private unwatchIfIdle(): void {
    if (this.caListeners.size > 0 || this.identityListeners.size > 0) return;
    this.timer?.cancel();
    this.timer = undefined;
  }
}
