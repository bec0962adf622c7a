import type { AddressInfo } from 'node:net';
import { createSilentLogger } from '@maestro/runtime';
import { buildGatewayApp, type GatewayDeps } from './app.js';
import { UpstreamHealth, type HealthProbe } from './ports.js';
import { RunEventHub } from './transport/nats/run-event-hub.js';
import { authedFetch, createTestAuth } from '../test/auth.js';

// Every request sends the test admin key (the app authenticates all but its public routes).
const fetch = authedFetch();

function notCalled(what: string): () => Promise<never> {
  return () => Promise.reject(new Error(`${what} must not be called in this test`));
}

// Real HTTP on a free port: fastify's inject() pulls in an ESM-only dependency (cookie 2)
// that this workspace's Jest (CommonJS via swc) cannot load.
async function serve(health: HealthProbe): Promise<{ url: string; close: () => Promise<void> }> {
  const app = appWith(health);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
}

function appWith(health: HealthProbe) {
  const deps: GatewayDeps = {
    orchestrator: {
      submitTask: notCalled('submitTask'),
      getTask: notCalled('getTask'),
      listTasks: notCalled('listTasks'),
      cancelTask: notCalled('cancelTask'),
      listAgentSteps: notCalled('listAgentSteps'),
    },
    workflow: {
      getRun: notCalled('getRun'),
      listRuns: notCalled('listRuns'),
      getRunHistory: notCalled('getRunHistory'),
      sendEvent: notCalled('sendEvent'),
      cancelRun: notCalled('cancelRun'),
      listDefinitions: notCalled('listDefinitions'),
      getDefinition: notCalled('getDefinition'),
      putDefinition: notCalled('putDefinition'),
      diffDefinitions: notCalled('diffDefinitions'),
    },
    locks: { inspect: notCalled('inspect') },
    memory: { remember: notCalled('remember'), recall: notCalled('recall'), list: notCalled('list'), update: notCalled('update'), forget: notCalled('forget') },
    router: { getTaskUsage: notCalled('getTaskUsage'), listTaskUsageTotals: notCalled('listTaskUsageTotals'), getModelStats: notCalled('getModelStats') },
    events: new RunEventHub(createSilentLogger()),
    health,
    auth: { authenticator: createTestAuth().authenticator },
    logger: createSilentLogger(),
  };
  return buildGatewayApp(deps);
}

describe('/healthz', () => {
  it('answers 503 naming NATS when the bus is disconnected', async () => {
    const app = await serve({ natsConnected: () => false, orchestrator: async () => UpstreamHealth.serving });
    try {
      const response = await fetch(`${app.url}/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'unavailable', nats: 'disconnected', orchestrator: 'serving' });
    } finally {
      await app.close();
    }
  });

  it('answers 503 when the orchestrator cannot be reached', async () => {
    const app = await serve({ natsConnected: () => true, orchestrator: async () => UpstreamHealth.unreachable });
    try {
      const response = await fetch(`${app.url}/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ nats: 'connected', orchestrator: 'unreachable' });
    } finally {
      await app.close();
    }
  });
});

describe('request validation', () => {
  it('rejects a submit whose body is not a JSON object before any upstream call', async () => {
    const app = await serve({ natsConnected: () => true, orchestrator: async () => UpstreamHealth.serving });
    try {
      // JSON, but a string: a plain-text body is refused earlier, with 415 (bad-input.test.ts).
      const response = await fetch(`${app.url}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"fix it"' });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('must be a JSON object') },
      });
    } finally {
      await app.close();
    }
  });
});
