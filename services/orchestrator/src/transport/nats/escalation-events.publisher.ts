/**
 * `EscalationEvents` on the bus: `maestro.events.escalation.raised` and `.decided`, each with a
 * message id made of the escalation id, so a second publish inside the duplicate window is
 * stored once. The gateway streams them live to the run's viewers (they carry the run id).
 */
import { EscalationDecidedEventSchema, EscalationRaisedEventSchema, Subjects, type EscalationDecidedEvent, type EscalationRaisedEvent } from '@maestro/contracts';
import type { Bus } from '@maestro/bus';
import { toMaestroError, type Logger } from '@maestro/runtime';
import type { EscalationEvents } from '../../domain/ports.js';

/** Publishes escalation events; a failure is logged at warn and swallowed (events are best-effort). */
export class BusEscalationEvents implements EscalationEvents {
  constructor(
    private readonly bus: Pick<Bus, 'publish'>,
    private readonly logger: Logger,
  ) {}

  async raised(event: EscalationRaisedEvent): Promise<void> {
    await this.emit(Subjects.escalationRaised, EscalationRaisedEventSchema.parse(event), `${event.escalationId}:raised`);
  }

  async decided(event: EscalationDecidedEvent): Promise<void> {
    await this.emit(Subjects.escalationDecided, EscalationDecidedEventSchema.parse(event), `${event.escalationId}:decided`);
  }

  private async emit(subject: string, payload: EscalationRaisedEvent | EscalationDecidedEvent, msgId: string): Promise<void> {
    try {
      await this.bus.publish(subject, payload, { msgId });
    } catch (err) {
      this.logger.warn('escalation event not published', { subject, escalationId: payload.escalationId, error: toMaestroError(err).message });
    }
  }
}
