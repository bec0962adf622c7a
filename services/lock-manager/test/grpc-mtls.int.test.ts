/**
 * The real lock-manager binary over mTLS: started with a certificate of a throwaway CA, it
 * serves the executor (allowed by the service-callers table), refuses the gateway's Acquire
 * with PERMISSION_DENIED while letting it Inspect, keeps health open to any certificate of
 * the CA, and refuses to start at all without certificates unless plaintext is asked for.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient, LockServiceClient } from '@maestro/contracts';
import { compileTransportSecurity, createGrpcClient, type TransportSecurity } from '@maestro/runtime';
import { createTestCertificates, ServiceProcess, testKeyPrefix, testNamespace, testServers, type TestCertificates } from '@maestro/testing';
import { buildLockManager, LOCK_MANAGER_MAIN } from './stress/lock-manager-process.js';

let pki: TestCertificates;
let lockManager: ServiceProcess;
const clients: Array<{ close(): void }> = [];

const baseEnv = (): Record<string, string> => ({
  MAESTRO_LOG_LEVEL: 'info',
  MAESTRO_LOCK_MANAGER_GRPC_ADDR: '127.0.0.1:0',
  MAESTRO_REDIS_URL: testServers.redisUrl,
  MAESTRO_NATS_URL: testServers.natsUrl,
  MAESTRO_NATS_NAMESPACE: testNamespace(),
  MAESTRO_LOCK_KEY_PREFIX: testKeyPrefix(),
});

function securityOf(identity: string): TransportSecurity {
  const files = pki.issue(identity);
  return compileTransportSecurity({ grpcTlsCa: pki.caFile, grpcTlsCert: files.cert, grpcTlsKey: files.key, grpcPlaintext: false });
}

function lockClient(identity: string) {
  const client = createGrpcClient(LockServiceClient, lockManager.address, { security: securityOf(identity), deadlineMs: 10_000 });
  clients.push(client);
  return client.call;
}

beforeAll(async () => {
  buildLockManager();
  pki = createTestCertificates();
  lockManager = await ServiceProcess.start({
    main: LOCK_MANAGER_MAIN,
    env: { ...baseEnv(), ...pki.env('lock-manager'), MAESTRO_GRPC_PLAINTEXT: 'false' },
  });
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await lockManager?.stop();
  pki?.remove();
});

it('says at start that it serves mTLS as lock-manager', () => {
  const line = lockManager.logs.find((l) => l.msg === 'grpc server listening');
  expect(line).toMatchObject({ transport: 'mtls', identity: 'lock-manager' });
});

it('serves the executor', async () => {
  const locks = lockClient('executor');
  const lease = await locks.acquire({ sharedConcerns: [], owner: 'exec-1/sub-1', concerns: ['port:18080'], ttlMs: 30_000, waitMs: 0 });
  expect(lease.owner).toBe('exec-1/sub-1');
  expect(await locks.release({ leaseId: lease.leaseId, owner: 'exec-1/sub-1' })).toEqual({ released: true });
});

it("refuses the gateway's Acquire with PERMISSION_DENIED naming it, but lets it Inspect", async () => {
  const locks = lockClient('gateway');
  const err = (await locks.acquire({ sharedConcerns: [], owner: 'gw', concerns: ['port:18081'], ttlMs: 30_000, waitMs: 0 }).then(
    () => undefined,
    (e: unknown) => e as Error & { cause?: ServiceError },
  ))!;
  expect(err.cause?.code).toBe(GrpcStatus.PERMISSION_DENIED);
  expect(err.message).toContain('"gateway" may not call maestro.v1.LockService/Acquire');
  await expect(locks.inspect({ concernPrefix: 'port:' })).resolves.toHaveProperty('leases');
});

it('answers health to any certificate of its CA', async () => {
  const health = createGrpcClient(HealthClient, lockManager.address, { security: securityOf('router'), deadlineMs: 10_000 });
  clients.push(health);
  expect((await health.call.check({ service: 'maestro.v1.LockService' })).status).toBe(Serving.SERVING);
});

it('refuses to start without certificates unless plaintext is asked for, naming the variables', async () => {
  const started = ServiceProcess.start({ main: LOCK_MANAGER_MAIN, env: { ...baseEnv(), MAESTRO_GRPC_PLAINTEXT: 'false' }, readyTimeoutMs: 20_000 });
  await expect(started).rejects.toThrow(/exited[\s\S]*MAESTRO_GRPC_TLS_CA[\s\S]*MAESTRO_GRPC_PLAINTEXT=true/);
});

it('runs plaintext when asked, warning that it is for local runs only', async () => {
  const plain = await ServiceProcess.start({ main: LOCK_MANAGER_MAIN, env: baseEnv() });
  try {
    expect(plain.logs.find((l) => l.level === 'warn' || l.level === 40)?.msg).toBe('gRPC is plaintext without caller identity: for local runs only');
    const client = createGrpcClient(LockServiceClient, plain.address, { deadlineMs: 10_000 });
    clients.push(client);
    await expect(client.call.inspect({ concernPrefix: '' })).resolves.toHaveProperty('leases');
  } finally {
    await plain.stop();
  }
});
