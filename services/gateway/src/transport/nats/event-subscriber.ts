/**
 * The gateway's live subscription to every event (`maestro.events.>`, core NATS: nothing is
 * replayed, which is right for live updates), feeding a {@link RunEventHub}.
 */
import { Subjects } from '@maestro/contracts';
import type { Bus, LiveSubscription } from '@maestro/bus';
import { z } from 'zod';
import type { RunEventHub } from './run-event-hub.js';

// Any JSON object; the hub only reads `runId`, and the payload goes to clients as it came.
const anyEventPayload = z.record(z.string(), z.unknown());

/**
 * Subscribes `hub` to all events and waits until the server has registered the interest, so
 * an event published after this resolves is delivered.
 */
export async function subscribeToEvents(bus: Bus, hub: RunEventHub): Promise<LiveSubscription> {
  const subscription = bus.subscribe(Subjects.allEvents, anyEventPayload, (payload, subject) => {
    hub.dispatch({ subject, payload });
  });
  await bus.connection.flush();
  return subscription;
}
