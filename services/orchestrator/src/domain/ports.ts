/**
 * The ports through which Orion talks to other services and to the bus. The application code
 * depends on these small interfaces; `main.ts` plugs in the gRPC clients (`createGrpcClient(…)
 * .call`) and the NATS publishers, and tests plug in real servers of the same interfaces.
 */
import type {
  ActivityResult,
  ClassifyIntentRequest,
  IntentClassification,
  CompleteRequest,
  CompleteResponse,
  EscalationDecidedEvent,
  EscalationRaisedEvent,
  LearnRequest,
  LearnResponse,
  RecallRequest,
  RecallResponse,
  GetRunRequest,
  RecordRunNoteRequest,
  Transition,
  Run,
  SendEventRequest,
  StartRunRequest,
  SubtaskWork,
} from '@maestro/contracts';
import type { TaskRecord } from './task.js';

/** Per-call options understood by the gRPC client ports. */
export interface PortCallOptions {
  deadlineMs?: number;
  /**
   * Cancels the call when aborted (the orchestrator's drain time is up); the call then
   * rejects with an `OperationalError`, so its message is handed back to the queue.
   */
  signal?: AbortSignal;
}

/** The router's RPCs Orion uses: Complete (the strategic model, by role and intent) and ClassifyIntent. */
export interface RouterPort {
  complete(request: CompleteRequest, options?: PortCallOptions): Promise<CompleteResponse>;
  classifyIntent(request: ClassifyIntentRequest, options?: PortCallOptions): Promise<IntentClassification>;
}

/**
 * The memory service's RPCs Orion uses: Recall (notes for the plan and review prompts) and Learn
 * (a reflex from a verified outcome; see `app/learn-reflex.ts`).
 */
export interface MemoryPort {
  recall(request: RecallRequest, options?: PortCallOptions): Promise<RecallResponse>;
  learn(request: LearnRequest, options?: PortCallOptions): Promise<LearnResponse>;
}

/** The workflow-engine RPCs Orion uses: start a task's run, cancel it, read it. */
export interface WorkflowPort {
  startRun(request: StartRunRequest, options?: PortCallOptions): Promise<Run>;
  sendEvent(request: SendEventRequest, options?: PortCallOptions): Promise<Run>;
  /** Reads a run, when a run event could not be applied and was dead-lettered. */
  getRun(request: GetRunRequest, options?: PortCallOptions): Promise<Run>;
  /** Records a note in a run's history (an escalation raised or decided), once per note id. */
  recordRunNote(request: RecordRunNoteRequest, options?: PortCallOptions): Promise<Transition>;
}

/**
 * Work and results Orion publishes on JetStream. Both resolve once the stream has stored the
 * message and throw when it could not, so callers can retry; the message id is the workId.
 */
export interface WorkPublisher {
  publishActivityResult(result: ActivityResult): Promise<void>;
  publishSubtaskWork(work: SubtaskWork): Promise<void>;
}

/** `maestro.events.task.updated`, published whenever a task's status changes. Best-effort. */
export interface TaskEvents {
  updated(task: TaskRecord, reason?: string): Promise<void>;
}

/**
 * `maestro.events.escalation.raised` / `.decided`, published when an escalation is admitted and
 * when it is decided, for live viewers. Best-effort: a failure is logged, never thrown (the
 * task's steps keep the durable record).
 */
export interface EscalationEvents {
  raised(event: EscalationRaisedEvent): Promise<void>;
  decided(event: EscalationDecidedEvent): Promise<void>;
}
