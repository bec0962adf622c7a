/**
 * Service-to-service mTLS over a real gRPC connection on 127.0.0.1: a `GrpcServer` with
 * transport security from `compileTransportSecurity` accepts only clients with a certificate
 * of its CA, and only the identities the service-callers table allows for each method; health
 * stays open to any certificate of the CA; plaintext works only when configured.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthClient,
  LockServiceClient,
  LockServiceService,
  RouterServiceClient,
  RouterServiceService,
  CompleteChunk,
  CompleteRequest,
  type AcquireRequest,
  Lease,
  type InspectResponse,
} from '@maestro/contracts';
import {
  CALLER_NOT_ALLOWED,
  PLAINTEXT,
  PLAINTEXT_WARNING,
  compileTransportSecurity,
  createGrpcClient,
  createGrpcServer,
  createSilentLogger,
  unary,
  serverStream,
  ErrorMetadataKeys,
  type GrpcServer,
  type Logger,
  type TransportSecurity,
} from '@maestro/runtime';
import { createTestCertificates, type TestCertificates } from '@maestro/testing';
import { failureOf } from './grpc-failure.js';

let pki: TestCertificates;
let foreignPki: TestCertificates;

function securityFor(certs: TestCertificates, name: string): TransportSecurity {
  const files = certs.issue(name);
  return compileTransportSecurity({ grpcTlsCa: certs.caFile, grpcTlsCert: files.cert, grpcTlsKey: files.key, grpcPlaintext: false });
}

/** A LockService whose Acquire answers with the caller's identity as the lease owner. */
function startLockServer(security: TransportSecurity, logger: Logger = createSilentLogger()): Promise<{ server: GrpcServer; address: string }> {
  const server = createGrpcServer({ address: '127.0.0.1:0', logger, serviceNames: ['maestro.v1.LockService'], security });
  server.add(LockServiceService, {
    acquire: unary(async (request: AcquireRequest, ctx): Promise<Lease> =>
      Lease.fromPartial({ leaseId: 'l-1', owner: ctx.caller ?? `anonymous:${request.owner}`, concerns: request.concerns }),
    ),
    inspect: unary(async (): Promise<InspectResponse> => ({ leases: [], waiters: [] })),
  });
  return server.start().then((port) => ({ server, address: `127.0.0.1:${port}` }));
}

const acquire = { owner: 'w1', concerns: ['repo/a.ts'], ttlMs: 1000, waitMs: 0, sharedConcerns: [], repoRoot: undefined } as AcquireRequest;

beforeAll(() => {
  pki = createTestCertificates();
  foreignPki = createTestCertificates('another-ca');
});

afterAll(() => {
  pki.remove();
  foreignPki.remove();
});

describe('a server over mTLS', () => {
  let server: GrpcServer;
  let address: string;
  const clients: Array<{ close(): void }> = [];

  beforeAll(async () => {
    ({ server, address } = await startLockServer(securityFor(pki, 'lock-manager')));
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(() => server.shutdown());

  function lockClient(security: TransportSecurity) {
    const client = createGrpcClient(LockServiceClient, address, { security, deadlineMs: 5000 });
    clients.push(client);
    return client;
  }

  it('accepts an allowed service and hands the handler its identity', async () => {
    const lease = await lockClient(securityFor(pki, 'executor')).call.acquire(acquire);
    expect(lease.owner).toBe('executor');
  });

  it('refuses a client without a certificate at the handshake (UNAVAILABLE)', async () => {
    // Trusts the server's CA but presents no certificate of its own.
    const client = new LockServiceClient(address, credentials.createSsl(readFileSync(pki.caFile)));
    clients.push(client);
    const err = await new Promise<ServiceError | null>((resolve) =>
      client.acquire(acquire, new Metadata(), { deadline: new Date(Date.now() + 5000) }, (e) => resolve(e)),
    );
    expect(err?.code).toBe(GrpcStatus.UNAVAILABLE);
  });

  it('refuses a plaintext client (UNAVAILABLE)', async () => {
    expect((await failureOf(lockClient(PLAINTEXT).call.acquire(acquire))).code).toBe(GrpcStatus.UNAVAILABLE);
  });

  it('refuses a certificate signed by another CA (UNAVAILABLE)', async () => {
    // The foreign client trusts our CA, so only the server's check of its certificate can fail.
    const foreign = foreignPki.issue('executor');
    const security = compileTransportSecurity({ grpcTlsCa: pki.caFile, grpcTlsCert: foreign.cert, grpcTlsKey: foreign.key, grpcPlaintext: false });
    expect((await failureOf(lockClient(security).call.acquire(acquire))).code).toBe(GrpcStatus.UNAVAILABLE);
  });

  it('refuses an identity of the CA that may not call the method, naming caller and method', async () => {
    const err = await failureOf(lockClient(securityFor(pki, 'gateway')).call.acquire(acquire));
    expect(err.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(err.details).toContain('"gateway"');
    expect(err.details).toContain('maestro.v1.LockService/Acquire');
    expect(err.metadata.get(ErrorMetadataKeys.code)).toEqual([CALLER_NOT_ALLOWED]);
  });

  it('lets the same identity call the methods the table gives it', async () => {
    await expect(lockClient(securityFor(pki, 'gateway')).call.inspect({ concernPrefix: '' })).resolves.toEqual({ leases: [], waiters: [] });
  });

  it('reads the identity from the subject CN when the certificate has no spiffe URI', async () => {
    const cnOnly = pki.issue('cn-executor', { uriIdentity: null, commonName: 'executor' });
    const security = compileTransportSecurity({ grpcTlsCa: pki.caFile, grpcTlsCert: cnOnly.cert, grpcTlsKey: cnOnly.key, grpcPlaintext: false });
    expect((await lockClient(security).call.acquire(acquire)).owner).toBe('executor');
  });

  it('refuses an identity the table does not know', async () => {
    const err = await failureOf(lockClient(securityFor(pki, 'stranger')).call.acquire(acquire));
    expect(err.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(err.details).toContain('"stranger"');
  });

  it('keeps health open to any certificate of the CA', async () => {
    const health = createGrpcClient(HealthClient, address, { security: securityFor(pki, 'stranger'), deadlineMs: 5000 });
    clients.push(health);
    expect((await health.call.check({ service: 'maestro.v1.LockService' })).status).toBe(Serving.SERVING);
  });
});

describe('a server over plaintext', () => {
  it('serves any client without an identity check and warns at start', async () => {
    const warnings: string[] = [];
    const logger: Logger = { ...createSilentLogger(), warn: (message) => warnings.push(message), child: () => logger };
    const { server, address } = await startLockServer(PLAINTEXT, logger);
    const client = createGrpcClient(LockServiceClient, address, { deadlineMs: 5000 });
    try {
      expect((await client.call.acquire(acquire)).owner).toBe('anonymous:w1');
      expect(warnings).toContain(PLAINTEXT_WARNING);
    } finally {
      client.close();
      await server.shutdown();
    }
  });
});

describe('the plaintext health-only port', () => {
  /** A port the OS just had free (for the health port, which cannot be 0: probes need to know it). */
  async function freePort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return port;
  }

  it('answers health without a certificate, and nothing else', async () => {
    const healthPort = await freePort();
    const server = createGrpcServer({ address: '127.0.0.1:0', logger: createSilentLogger(), serviceNames: ['maestro.v1.LockService'], security: securityFor(pki, 'lock-manager'), healthPort });
    server.add(LockServiceService, { inspect: unary(async (): Promise<InspectResponse> => ({ leases: [], waiters: [] })) });
    await server.start();
    const health = createGrpcClient(HealthClient, `127.0.0.1:${healthPort}`, { deadlineMs: 5000 });
    const locks = createGrpcClient(LockServiceClient, `127.0.0.1:${healthPort}`, { deadlineMs: 5000 });
    try {
      expect((await health.call.check({ service: 'maestro.v1.LockService' })).status).toBe(Serving.SERVING);
      expect((await failureOf(locks.call.inspect({ concernPrefix: '' }))).code).toBe(GrpcStatus.UNIMPLEMENTED);
    } finally {
      health.close();
      locks.close();
      await server.shutdown();
    }
  });
});

describe('a server-streaming method over mTLS', () => {
  it('refuses a caller the table does not allow before the stream starts, and serves one it does', async () => {
    const server = createGrpcServer({ address: '127.0.0.1:0', logger: createSilentLogger(), serviceNames: ['maestro.v1.RouterService'], security: securityFor(pki, 'router') });
    server.add(RouterServiceService, {
      streamComplete: serverStream(async (_request: CompleteRequest, ctx, send: (chunk: CompleteChunk) => void) => {
        send(CompleteChunk.fromPartial({ contentDelta: `hello ${ctx.caller ?? ''}` }));
      }),
    });
    const port = await server.start();
    const stream = (identity: string) => {
      const client = createGrpcClient(RouterServiceClient, `127.0.0.1:${port}`, { security: securityFor(pki, identity) });
      const call = client.raw.streamComplete(CompleteRequest.fromPartial({ role: 'tactical', intent: 'code' }), client.metadata());
      const chunks: string[] = [];
      call.on('data', (chunk: CompleteChunk) => chunks.push(chunk.contentDelta ?? ''));
      return new Promise<{ chunks: string[]; err?: ServiceError }>((resolve) => {
        call.on('error', (err: ServiceError) => resolve({ chunks, err }));
        call.on('end', () => resolve({ chunks }));
      }).finally(() => client.close());
    };
    try {
      const denied = await stream('gateway');
      expect(denied.err?.code).toBe(GrpcStatus.PERMISSION_DENIED);
      expect(denied.err?.details).toContain('"gateway" may not call maestro.v1.RouterService/StreamComplete');
      expect(denied.chunks).toEqual([]);
      expect(await stream('executor')).toEqual({ chunks: ['hello executor'] });
    } finally {
      await server.shutdown();
    }
  });
});
