/**
 * Certificate rotation without a restart, over real gRPC on 127.0.0.1: a server and a client
 * start with certificates of one CA mounted like a Kubernetes Secret; the Secret's files are
 * swapped for those of a new CA on both sides (as kubelet does when cert-manager renews them);
 * after the next refresh new connections use the new certificates, and the caller check still
 * reads the identity from each caller's certificate. A broken rotation (a key of another
 * certificate) keeps the last good pair and is logged once. Time is a ManualClock: the refresh
 * happens when the test advances it.
 */
import { X509Certificate } from 'node:crypto';
import { status as GrpcStatus, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { Lease, LockServiceClient, LockServiceService, type AcquireRequest, type InspectResponse } from '@maestro/contracts';
import {
  compileTransportSecurity,
  createGrpcClient,
  createGrpcServer,
  createSilentLogger,
  ManualClock,
  unary,
  type GrpcServer,
  type LogFields,
  type Logger,
  type TransportSecurity,
} from '@maestro/runtime';
import { createTestCertificates, type TestCertificates } from '@maestro/testing';
import { createSecretVolume, tlsSecretOf, type SecretVolume, type TlsSecretContents } from './secret-volume.js';
import { failureOf } from './grpc-failure.js';

const REFRESH_S = 1;
const acquire = { owner: 'w1', concerns: ['repo/a.ts'], ttlMs: 1000, waitMs: 0, sharedConcerns: [], repoRoot: undefined } as AcquireRequest;

/** A logger keeping its error lines. */
function recordingLogger(): { logger: Logger; errors: Array<{ message: string; fields: LogFields | undefined }> } {
  const errors: Array<{ message: string; fields: LogFields | undefined }> = [];
  const logger: Logger = { ...createSilentLogger(), error: (message, fields) => errors.push({ message, fields }), child: () => logger };
  return { logger, errors };
}

function fingerprintOf(contents: TlsSecretContents): string {
  return new X509Certificate(contents.cert).fingerprint256;
}

function securityFrom(volume: SecretVolume, clock: ManualClock, logger: Logger): TransportSecurity {
  return compileTransportSecurity(
    { grpcTlsCa: volume.files.ca, grpcTlsCert: volume.files.cert, grpcTlsKey: volume.files.key, grpcPlaintext: false, grpcTlsRefreshS: REFRESH_S },
    { clock, logger },
  );
}

/** Static transport security from a CA's own files (never rotated). */
function staticSecurity(pki: TestCertificates, name: string): TransportSecurity {
  const files = pki.issue(name);
  return compileTransportSecurity({ grpcTlsCa: pki.caFile, grpcTlsCert: files.cert, grpcTlsKey: files.key, grpcPlaintext: false });
}

/** A LockService whose Acquire answers with the caller's identity and its certificate's fingerprint. */
async function startLockServer(security: TransportSecurity): Promise<{ server: GrpcServer; address: string }> {
  const server = createGrpcServer({ address: '127.0.0.1:0', logger: createSilentLogger(), serviceNames: ['maestro.v1.LockService'], security });
  server.add(LockServiceService, {
    // Raw handler: it reads the peer certificate grpc-js hands every call.
    acquire: (call: ServerUnaryCall<AcquireRequest, Lease>, callback: sendUnaryData<Lease>) => {
      const peer = call.getAuthContext().sslPeerCertificate;
      const cn = peer?.subject.CN;
      callback(null, Lease.fromPartial({ leaseId: peer?.fingerprint256 ?? 'none', owner: (Array.isArray(cn) ? cn[0] : cn) ?? 'none' }));
    },
    inspect: unary(async (): Promise<InspectResponse> => ({ leases: [], waiters: [] })),
  });
  const port = await server.start();
  return { server, address: `127.0.0.1:${port}` };
}

describe('gRPC mTLS certificates rotated under a running server and client', () => {
  let ca1: TestCertificates;
  let ca2: TestCertificates;
  let ca3: TestCertificates;
  let serverVolume: SecretVolume;
  let clientVolume: SecretVolume;
  const clock = new ManualClock();
  const serverLog = recordingLogger();
  const clientLog = recordingLogger();
  let serverSecurity: TransportSecurity;
  let clientSecurity: TransportSecurity;
  let server: GrpcServer;
  let address: string;
  const clients: Array<{ close(): void }> = [];

  /** A client on a connection of its own (no subchannel shared with earlier clients), as after a reconnect. */
  function lockClient(security: TransportSecurity) {
    const client = createGrpcClient(LockServiceClient, address, { security, deadlineMs: 5000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
    clients.push(client);
    return client;
  }

  /** Moves the clock past one refresh interval: every listening reloader re-reads its files. */
  function refresh(): void {
    clock.advance(REFRESH_S * 1000);
  }

  beforeAll(async () => {
    ca1 = createTestCertificates('rotation-ca-1');
    ca2 = createTestCertificates('rotation-ca-2');
    ca3 = createTestCertificates('rotation-ca-3');
    serverVolume = createSecretVolume(tlsSecretOf(ca1, 'lock-manager'));
    clientVolume = createSecretVolume(tlsSecretOf(ca1, 'executor'));
    serverSecurity = securityFrom(serverVolume, clock, serverLog.logger);
    clientSecurity = securityFrom(clientVolume, clock, clientLog.logger);
    ({ server, address } = await startLockServer(serverSecurity));
  });

  afterAll(async () => {
    for (const client of clients.splice(0)) client.close();
    await server?.shutdown();
    for (const disposable of [serverVolume, clientVolume, ca1, ca2, ca3]) disposable?.remove();
  });

  it('serves the first CA, then the new CA after both sides rotate, with the new certificates', async () => {
    const before = lockClient(clientSecurity);
    await expect(before.call.acquire(acquire)).resolves.toMatchObject({ leaseId: fingerprintOf(tlsSecretOf(ca1, 'executor')), owner: 'executor' });
    // A client that only trusts and holds the new CA cannot connect yet.
    expect((await failureOf(lockClient(staticSecurity(ca2, 'executor')).call.acquire(acquire))).code).toBe(GrpcStatus.UNAVAILABLE);

    serverVolume.update(tlsSecretOf(ca2, 'lock-manager'));
    clientVolume.update(tlsSecretOf(ca2, 'executor'));
    refresh();

    // The rotated client connects again with its new certificate: the server sees it, verified against the new CA.
    const after = lockClient(clientSecurity);
    await expect(after.call.acquire(acquire)).resolves.toMatchObject({ leaseId: fingerprintOf(tlsSecretOf(ca2, 'executor')), owner: 'executor' });
    // The server now presents the new CA's certificate and trusts only the new CA.
    await expect(lockClient(staticSecurity(ca2, 'executor')).call.acquire(acquire)).resolves.toMatchObject({ owner: 'executor' });
    expect((await failureOf(lockClient(staticSecurity(ca1, 'executor')).call.acquire(acquire))).code).toBe(GrpcStatus.UNAVAILABLE);
    // The connection opened before the rotation keeps working.
    await expect(before.call.acquire(acquire)).resolves.toMatchObject({ owner: 'executor' });
    expect(serverLog.errors).toEqual([]);
    expect(clientLog.errors).toEqual([]);
  });

  it('keeps checking callers by the identity in the rotated certificates', async () => {
    const gateway = lockClient(staticSecurity(ca2, 'gateway'));
    const err = await failureOf(gateway.call.acquire(acquire));
    expect(err.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(err.details).toContain('"gateway"');
    await expect(gateway.call.inspect({ concernPrefix: '' })).resolves.toEqual({ leases: [], waiters: [] });
  });

  it('keeps the last good pair when a rotation is broken, and logs it once naming the file', async () => {
    const good = tlsSecretOf(ca2, 'lock-manager');
    serverVolume.update({ ...tlsSecretOf(ca3, 'lock-manager'), key: tlsSecretOf(ca3, 'router').key });
    refresh();
    refresh();

    // Had the server taken the new certificate, a client trusting only the second CA would fail.
    await expect(lockClient(staticSecurity(ca2, 'executor')).call.acquire(acquire)).resolves.toMatchObject({ owner: 'executor' });
    expect(serverSecurity.mode === 'mtls' && serverSecurity.cert.equals(good.cert)).toBe(true);
    expect(serverLog.errors).toHaveLength(1);
    const { fields } = serverLog.errors[0]!;
    expect(fields?.['file']).toBe(serverVolume.files.key);
    expect(String((fields?.['err'] as Error).message)).toContain('is not the private key of the certificate');

    // The next good rotation is taken.
    serverVolume.update(tlsSecretOf(ca3, 'lock-manager'));
    refresh();
    expect(serverSecurity.mode === 'mtls' && serverSecurity.cert.equals(tlsSecretOf(ca3, 'lock-manager').cert)).toBe(true);
    expect(serverLog.errors).toHaveLength(1);
  });
});
