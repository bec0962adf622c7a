import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, createSilentLogger, type LogFields, type Logger } from '@maestro/runtime';
import { createTestCertificates, type TestCertificates } from '@maestro/testing';
import { CertificateReloader, CertificateReloadErrorCodes } from './certificate-reloader.js';
import { loadTlsFiles } from './tls-files.js';

const REFRESH_MS = 60_000;

let ca1: TestCertificates;
let ca2: TestCertificates;
let dir: string;
beforeAll(() => {
  ca1 = createTestCertificates('reload-ca-1');
  ca2 = createTestCertificates('reload-ca-2');
});
afterAll(() => {
  ca1.remove();
  ca2.remove();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-reload-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const paths = (): { ca: string; cert: string; key: string } => ({ ca: join(dir, 'ca.crt'), cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') });

/** Writes `name`'s files of `pki` where the reloader reads them. */
function install(pki: TestCertificates, name: string): void {
  const files = pki.issue(name);
  copyFileSync(pki.caFile, paths().ca);
  copyFileSync(files.cert, paths().cert);
  copyFileSync(files.key, paths().key);
}

function setUp(): { reloader: CertificateReloader; clock: ManualClock; logs: Array<{ level: string; message: string; fields?: LogFields }> } {
  const logs: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const logger: Logger = {
    ...createSilentLogger(),
    info: (message, fields) => logs.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
    error: (message, fields) => logs.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
    child: () => logger,
  };
  install(ca1, 'executor');
  const initial = loadTlsFiles(paths(), readFileSync);
  if (!initial.ok) throw new Error('test certificates did not load');
  const clock = new ManualClock();
  const reloader = new CertificateReloader({ paths: paths(), initial: initial.material, refreshMs: REFRESH_MS, clock, logger, readFile: readFileSync });
  return { reloader, clock, logs };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const errorsOf = (logs: ReturnType<typeof setUp>['logs']) => logs.filter((l) => l.level === 'error');

describe('CertificateReloader', () => {
  it('watches the files only while grpc-js listens, and answers a new listener with the set in use', async () => {
    const { reloader, clock } = setUp();
    expect(reloader.watching).toBe(false);
    const identities: Buffer[] = [];
    const listener = (update: { certificate: Buffer } | null): void => void (update && identities.push(update.certificate));
    reloader.addIdentityCertificateListener(listener);
    expect(reloader.watching).toBe(true);
    await flush();
    expect(identities).toEqual([reloader.material.cert]);
    reloader.removeIdentityCertificateListener(listener);
    expect(reloader.watching).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('takes a rotation at the next refresh and hands it to every listener', async () => {
    const { reloader, clock, logs } = setUp();
    const cas: Buffer[] = [];
    const certs: Buffer[] = [];
    reloader.addCaCertificateListener((u) => void (u && cas.push(u.caCertificate)));
    reloader.addIdentityCertificateListener((u) => void (u && certs.push(u.certificate)));
    await flush();
    const before = reloader.material.fingerprint;

    install(ca2, 'executor');
    clock.advance(REFRESH_MS - 1);
    expect(reloader.material.fingerprint).toBe(before);
    clock.advance(1);

    expect(reloader.material.fingerprint).not.toBe(before);
    expect(reloader.material.cert.equals(readFileSync(ca2.issue('executor').cert))).toBe(true);
    expect(cas.at(-1)?.equals(readFileSync(ca2.caFile))).toBe(true);
    expect(certs.at(-1)?.equals(reloader.material.cert)).toBe(true);
    expect(logs).toEqual([expect.objectContaining({ level: 'info', message: 'gRPC TLS certificates reloaded', fields: expect.objectContaining({ previousFingerprint: before, caChanged: true }) })]);
    // Unchanged files: nothing is handed on again.
    const handed = certs.length;
    clock.advance(REFRESH_MS);
    expect(certs).toHaveLength(handed);
  });

  it('keeps the last good set when the key is of another certificate, logging once at error naming the file', () => {
    const { reloader, logs } = setUp();
    const good = reloader.material;
    install(ca2, 'executor');
    copyFileSync(ca2.issue('router').key, paths().key);

    expect(reloader.refresh()).toBe('kept');
    expect(reloader.refresh()).toBe('kept');
    expect(reloader.material).toBe(good);
    const errors = errorsOf(logs);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields?.['file']).toBe(paths().key);
    const err = errors[0]?.fields?.['err'] as Error & { code: string };
    expect(err.code).toBe(CertificateReloadErrorCodes.TLS_FILES_INVALID);
    expect(err.message).toContain(paths().key);

    // Once the rotation is complete it is taken, and a later breakage is logged again.
    copyFileSync(ca2.issue('executor').key, paths().key);
    expect(reloader.refresh()).toBe('reloaded');
    writeFileSync(paths().key, 'garbage');
    expect(reloader.refresh()).toBe('kept');
    expect(errorsOf(logs)).toHaveLength(2);
  });

  it('keeps the last good set when a file is half-written', () => {
    const { reloader, logs } = setUp();
    const good = reloader.material;
    const cert = readFileSync(ca2.issue('executor').cert);
    install(ca2, 'executor');
    writeFileSync(paths().cert, cert.subarray(0, cert.length / 2));

    expect(reloader.refresh()).toBe('kept');
    expect(reloader.material).toBe(good);
    expect(errorsOf(logs)[0]?.fields?.['file']).toBe(paths().cert);
    expect((errorsOf(logs)[0]?.fields?.['err'] as Error).message).toContain('is not a PEM certificate');
  });

  it('keeps the last good set when the certificate is whole but a block after it is cut (what TLS alone refuses)', () => {
    const { reloader, logs } = setUp();
    const good = reloader.material;
    install(ca2, 'executor');
    const cert = readFileSync(paths().cert);
    writeFileSync(paths().cert, Buffer.concat([cert, cert.subarray(0, cert.length / 2)]));

    expect(reloader.refresh()).toBe('kept');
    expect(reloader.material).toBe(good);
    expect(errorsOf(logs)[0]?.fields?.['file']).toBe(paths().cert);
    expect((errorsOf(logs)[0]?.fields?.['err'] as Error).message).toContain('TLS cannot use');
  });

  it('keeps the last good set when a file cannot be read', () => {
    const { reloader, logs } = setUp();
    const good = reloader.material;
    rmSync(paths().ca);

    expect(reloader.refresh()).toBe('kept');
    expect(reloader.material).toBe(good);
    expect(errorsOf(logs)[0]?.fields?.['file']).toBe(paths().ca);
    expect((errorsOf(logs)[0]?.fields?.['err'] as Error).message).toContain('ENOENT');
  });

  it('refuses a certificate of another identity: the identity is fixed for the process', () => {
    const { reloader, logs } = setUp();
    install(ca1, 'router');

    expect(reloader.refresh()).toBe('kept');
    expect(reloader.material.identity).toBe('executor');
    const err = errorsOf(logs)[0]?.fields?.['err'] as Error & { code: string };
    expect(err.code).toBe(CertificateReloadErrorCodes.TLS_IDENTITY_CHANGED);
    expect(err.message).toContain('"router"');
  });
});
