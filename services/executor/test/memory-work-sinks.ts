/**
 * In-memory result store and publisher for tests that drive the subtask worker without a bus.
 */
import type { Escalation, SubtaskResult, WorkFinishedEvent, WorkStepEvent } from '@maestro/contracts';
import { isEscalation, type WorkOutcome } from '../src/domain/escalation.js';
import type { WorkPublisher, WorkResultStore } from '../src/domain/ports.js';

/** Outcomes by work id, in memory. */
export class MemoryResults implements WorkResultStore {
  readonly byWorkId = new Map<string, WorkOutcome>();
  async get(workId: string) {
    return this.byWorkId.get(workId);
  }
  async put(outcome: WorkOutcome) {
    this.byWorkId.set(isEscalation(outcome) ? outcome.escalationId : outcome.workId, outcome);
  }
}

/** Everything published, in memory. */
export class MemoryPublisher implements WorkPublisher {
  readonly results: SubtaskResult[] = [];
  readonly escalations: Escalation[] = [];
  readonly steps: WorkStepEvent[] = [];
  readonly finished: WorkFinishedEvent[] = [];
  async publishResult(result: SubtaskResult) {
    this.results.push(result);
  }
  async publishEscalation(escalation: Escalation) {
    this.escalations.push(escalation);
  }
  async publishStep(event: WorkStepEvent) {
    this.steps.push(event);
  }
  async publishFinished(event: WorkFinishedEvent) {
    this.finished.push(event);
  }
}
