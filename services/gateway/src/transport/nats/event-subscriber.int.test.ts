/**
 * The gateway's event subscription on a signed bus, against the real NATS server: a lifecycle
 * event forged by a client without the cluster key (naming another tenant, which is what the
 * gateway filters tenants' streams by) never reaches the hub's global or run listeners, so no
 * tenant's SSE stream can carry it; the same event signed by a service holding the key does.
 */
import { randomUUID } from 'node:crypto';
import { connectBus, MessageSigner, tracedHeaders, type Bus, type LiveSubscription } from '@maestro/bus';
import { Subjects } from '@maestro/contracts';
import { createSilentLogger, Registry } from '@maestro/runtime';
import type { BusEvent } from '../../ports.js';
import { subscribeToEvents } from './event-subscriber.js';
import { RunEventHub } from './run-event-hub.js';

const natsUrl = 'nats://127.0.0.1:4222';
const key = `${randomUUID()}${randomUUID()}`;
const logger = createSilentLogger();

let gateway: Bus;
let orchestrator: Bus;
let attacker: Bus;
let subscription: LiveSubscription;

beforeEach(async () => {
  const namespace = `gwev${randomUUID().slice(0, 8)}`;
  const common = { url: natsUrl, logger, namespace };
  gateway = await connectBus({ ...common, name: 'gateway', metrics: new Registry(), signing: { key } });
  orchestrator = await connectBus({ ...common, name: 'orchestrator', metrics: new Registry(), signing: { key } });
  attacker = await connectBus({ ...common, name: 'attacker', metrics: new Registry() });
});

afterEach(async () => {
  subscription.unsubscribe();
  for (const bus of [gateway, orchestrator, attacker]) await bus.close();
});

it('never hands a forged lifecycle event naming another tenant to any listener, and hands the signed one', async () => {
  const hub = new RunEventHub(logger);
  const global: BusEvent[] = [];
  const ofRun: BusEvent[] = [];
  hub.listenAll((event) => void global.push(event));
  hub.listen('run-globex', (event) => void ofRun.push(event));
  subscription = await subscribeToEvents(gateway, hub);

  const forged = { taskId: 'task-globex', tenant: 'globex', status: 'cancelled', runId: 'run-globex', at: new Date().toISOString(), forged: true };
  attacker.publishLive(Subjects.taskUpdated, forged);
  // Signed with a key that is not the cluster's.
  const wrongKey = new MessageSigner({ key: 'not-the-cluster-key-but-32-bytes-long!', signer: 'orchestrator' });
  const wire = attacker.namespace.subject(Subjects.runTransitioned);
  const body = JSON.stringify({ ...forged, seq: 9, from: 'plan', to: 'done' });
  const headers = tracedHeaders();
  wrongKey.sign(wire, body, headers);
  attacker.connection.publish(wire, body, { headers });
  await attacker.connection.flush();

  const genuine = { taskId: 'task-globex', tenant: 'globex', status: 'running', runId: 'run-globex', at: new Date().toISOString() };
  orchestrator.publishLive(Subjects.taskUpdated, genuine);
  const until = Date.now() + 10_000;
  while (global.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));

  expect(global).toEqual([{ subject: Subjects.taskUpdated, payload: genuine }]);
  expect(ofRun).toEqual([{ subject: Subjects.taskUpdated, payload: genuine }]);
});
