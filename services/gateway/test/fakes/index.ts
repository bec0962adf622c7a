/**
 * In-process fakes of every upstream port, behaving like the real services for what they
 * return (see each file), and the gateway deps built from them.
 */
import { ManualClock, createSilentLogger } from '@maestro/runtime';
import type { GatewayDeps } from '../../src/app.js';
import { UpstreamHealth } from '../../src/ports.js';
import { createTestAuth, type TestAuth } from '../auth.js';
import { RunEventHub } from '../../src/transport/nats/run-event-hub.js';
import { FakeLocks } from './fake-locks.js';
import { FakeMemory } from './fake-memory.js';
import { FakeOrchestrator } from './fake-orchestrator.js';
import { FakeRouter } from './fake-router.js';
import { FakeWorkflow } from './fake-workflow.js';

export { FakeLocks, FakeMemory, FakeOrchestrator, FakeRouter, FakeWorkflow };

/** Every fake, sharing one clock, and the event hub tests dispatch into. */
export interface FakeUpstreams {
  clock: ManualClock;
  orchestrator: FakeOrchestrator;
  workflow: FakeWorkflow;
  memory: FakeMemory;
  router: FakeRouter;
  locks: FakeLocks;
  hub: RunEventHub;
  /** The API keys the app accepts (the test admin key and whatever a test adds). */
  auth: TestAuth;
}

/** Fresh fakes at 2030-01-02T03:04:05Z. */
export function createFakeUpstreams(): FakeUpstreams {
  const clock = new ManualClock(Date.parse('2030-01-02T03:04:05.000Z'));
  return {
    clock,
    orchestrator: new FakeOrchestrator(clock),
    workflow: new FakeWorkflow(clock),
    memory: new FakeMemory(clock),
    router: new FakeRouter(),
    locks: new FakeLocks(clock),
    hub: new RunEventHub(createSilentLogger()),
    auth: createTestAuth(clock),
  };
}

/** Gateway deps over the fakes (NATS connected, orchestrator serving; heartbeats on the fakes' clock). */
export function depsOf(fakes: FakeUpstreams, extra: Partial<GatewayDeps> = {}): GatewayDeps {
  return {
    orchestrator: fakes.orchestrator,
    workflow: fakes.workflow,
    memory: fakes.memory,
    router: fakes.router,
    locks: fakes.locks,
    events: fakes.hub,
    auth: { authenticator: fakes.auth.authenticator, keys: fakes.auth.store },
    health: { natsConnected: () => true, orchestrator: async () => UpstreamHealth.serving },
    logger: createSilentLogger(),
    clock: fakes.clock,
    ...extra,
  };
}
