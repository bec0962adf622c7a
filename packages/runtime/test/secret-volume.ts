/**
 * A directory laid out like a Kubernetes Secret volume, for certificate-rotation tests: the
 * files (`ca.crt`, `tls.crt`, `tls.key`) are symlinks through `..data`, itself a symlink to a
 * timestamped directory. `update` rotates them the way kubelet does when cert-manager renews
 * the Secret: write every new file into a fresh directory, then swap `..data` in one rename.
 */
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestCertificates } from '@maestro/testing';

/** The contents of the three files of a TLS Secret. */
export interface TlsSecretContents {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** A mounted TLS Secret whose contents a test can rotate. */
export interface SecretVolume {
  /** The mount directory. */
  readonly dir: string;
  /** The three paths a service is configured with (they never change across rotations). */
  readonly files: { readonly ca: string; readonly cert: string; readonly key: string };
  /** Replaces the three files at once, as kubelet does (new directory, then `..data` swapped). */
  update(contents: TlsSecretContents): void;
  /** Deletes the directory. */
  remove(): void;
}

/** The CA, certificate and key `pki` issued to `name` (issued now if needed). */
export function tlsSecretOf(pki: TestCertificates, name: string): TlsSecretContents {
  const files = pki.issue(name);
  return { ca: readFileSync(pki.caFile), cert: readFileSync(files.cert), key: readFileSync(files.key) };
}

const FILE_NAMES = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

/** Mounts `contents` in a new temporary directory. */
export function createSecretVolume(contents: TlsSecretContents): SecretVolume {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-secret-'));
  let generation = 0;

  const writeGeneration = (next: TlsSecretContents): string => {
    const name = `..gen_${++generation}`;
    mkdirSync(join(dir, name));
    for (const key of ['ca', 'cert', 'key'] as const) writeFileSync(join(dir, name, FILE_NAMES[key]), next[key], { mode: 0o600 });
    return name;
  };

  symlinkSync(writeGeneration(contents), join(dir, '..data'));
  for (const key of ['ca', 'cert', 'key'] as const) symlinkSync(join('..data', FILE_NAMES[key]), join(dir, FILE_NAMES[key]));

  return {
    dir,
    files: { ca: join(dir, FILE_NAMES.ca), cert: join(dir, FILE_NAMES.cert), key: join(dir, FILE_NAMES.key) },
    update: (next) => {
      const previous = readlinkSync(join(dir, '..data'));
      symlinkSync(writeGeneration(next), join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, previous), { recursive: true, force: true });
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
