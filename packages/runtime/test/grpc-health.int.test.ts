/**
 * The grpc.health.v1 behaviour every service inherits from `createGrpcServer`, checked
 * against the cases in ../shared/corpora/grpc (grpc-node's and grpc-go's own health tests)
 * over a real gRPC connection.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { HealthClient, HealthCheckResponse_ServingStatus as S, type HealthCheckResponse } from '@maestro/contracts';
import { createGrpcClient, createGrpcServer, createSilentLogger, type GrpcServer } from '@maestro/runtime';

interface HealthCorpus {
  health_initial_status_map: Record<string, keyof typeof S>;
  health_cases: Array<{ rpc?: string; request?: { service: string }; expect?: { code: string; status?: string } | string }>;
}

const corpus = JSON.parse(
  readFileSync(join(__dirname, '../../../../shared/corpora/grpc/grpc_health_and_interop_cases.json'), 'utf8'),
) as HealthCorpus;

let server: GrpcServer;
let client: ReturnType<typeof createGrpcClient<HealthClient>>;

beforeEach(async () => {
  server = createGrpcServer({ address: '127.0.0.1:0', logger: createSilentLogger(), serviceNames: [] });
  const port = await server.start();
  for (const [service, status] of Object.entries(corpus.health_initial_status_map)) server.health.setStatus(service, S[status]);
  client = createGrpcClient(HealthClient, `127.0.0.1:${port}`, { deadlineMs: 5000 });
});

afterEach(async () => {
  client.close();
  await server.shutdown();
});

function rawCheck(service: string): Promise<{ err: ServiceError | null; res?: HealthCheckResponse }> {
  return new Promise((resolve) => {
    client.raw.check({ service }, client.metadata(), { deadline: client.deadline() }, (err, res) => resolve({ err, res }));
  });
}

function watch(service: string) {
  const call = client.raw.watch({ service }, client.metadata());
  const received: S[] = [];
  const waiters: Array<() => void> = [];
  call.on('data', (message: HealthCheckResponse) => {
    received.push(message.status);
    waiters.splice(0).forEach((w) => w());
  });
  const ended = new Promise<ServiceError>((resolve) => call.on('error', (err: ServiceError) => resolve(err)));
  const nth = async (n: number): Promise<S> => {
    while (received.length < n) await new Promise<void>((r) => waiters.push(r));
    return received[n - 1]!;
  };
  return { call, received, nth, ended };
}

describe('grpc.health.v1 Check (corpus cases)', () => {
  const checkCases = corpus.health_cases.filter((c) => c.rpc === 'Check' && c.request && typeof c.expect === 'object');
  it.each(checkCases.map((c) => [c.request!.service, c.expect as { code: string; status?: string }]))(
    'Check(%j) answers as the corpus expects',
    async (service, expected) => {
      const { err, res } = await rawCheck(service);
      if (expected.code === 'OK') {
        expect(err).toBeNull();
        expect(S[res!.status]).toBe(expected.status);
      } else {
        expect(err?.code).toBe(GrpcStatus[expected.code as keyof typeof GrpcStatus]);
      }
    },
  );

  it('Check of a service registered later turns from NOT_FOUND to SERVING', async () => {
    expect((await rawCheck('transient')).err?.code).toBe(GrpcStatus.NOT_FOUND);
    server.health.setStatus('transient', S.SERVING);
    expect((await rawCheck('transient')).res?.status).toBe(S.SERVING);
  });

  it('the promise client maps NOT_FOUND into a not_found UserError', async () => {
    await expect(client.call.check({ service: 'not_registered' })).rejects.toMatchObject({ name: 'UserError', reason: 'not_found' });
  });
});

describe('grpc.health.v1 Watch (corpus cases)', () => {
  it('Watch("") streams SERVING and ends CANCELLED when the client cancels', async () => {
    const w = watch('');
    expect(await w.nth(1)).toBe(S.SERVING);
    w.call.cancel();
    expect((await w.ended).code).toBe(GrpcStatus.CANCELLED);
  });

  it('Watch streams each change once and sends nothing for a repeated status', async () => {
    const w = watch('grpc.test.TestServiceServing');
    expect(await w.nth(1)).toBe(S.SERVING);
    server.health.setStatus('grpc.test.TestServiceServing', S.NOT_SERVING);
    expect(await w.nth(2)).toBe(S.NOT_SERVING);
    server.health.setStatus('grpc.test.TestServiceServing', S.NOT_SERVING);
    // A round trip on the same connection orders after any message the repeat would have sent.
    await rawCheck('');
    w.call.cancel();
    await w.ended;
    expect(w.received).toEqual([S.SERVING, S.NOT_SERVING]);
  });

  it('Watch of an unknown service sends SERVICE_UNKNOWN, stays open, then SERVING', async () => {
    const w = watch('transient');
    expect(await w.nth(1)).toBe(S.SERVICE_UNKNOWN);
    server.health.setStatus('transient', S.SERVING);
    expect(await w.nth(2)).toBe(S.SERVING);
    w.call.cancel();
    await w.ended;
  });
});

describe('grpc.health.v1 List and shutdown', () => {
  it('List returns every registered service with its status', async () => {
    const res = await client.call.list({});
    expect(Object.fromEntries(Object.entries(res.statuses).map(([k, v]) => [k, S[v.status]]))).toEqual(
      corpus.health_initial_status_map,
    );
  });

  it('after shutdown every status is NOT_SERVING and later setStatus is ignored; resume brings SERVING back', async () => {
    server.health.shutdown();
    server.health.setStatus('grpc.test.TestServiceServing', S.SERVING);
    expect((await rawCheck('grpc.test.TestServiceServing')).res?.status).toBe(S.NOT_SERVING);
    expect((await rawCheck('')).res?.status).toBe(S.NOT_SERVING);
    server.health.resume();
    expect((await rawCheck('grpc.test.TestServiceNotServing')).res?.status).toBe(S.SERVING);
  });
});
