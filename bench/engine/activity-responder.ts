/**
 * The orchestrator's stand-in for the benchmark: a durable work consumer on the orchestrator
 * queue (as the orchestrator has) that answers every activity request at once with an ok
 * ActivityResult, and a live subscription to `run.finished`. It times each transition of a run
 * from the moment a result is handed to JetStream to the moment the engine's next effect (the
 * next activity request, or `run.finished` after the last state) arrives here.
 */
import type { Bus, LiveSubscription, WorkConsumer } from '@maestro/bus';
import { ActivityRequestSchema, Consumers, RunEventSchema, Streams, Subjects, WorkQueues, type ActivityResult } from '@maestro/contracts';
import { nowMs } from './stats.js';

/** One run as the responder has seen it. */
interface RunProgress {
  /** When the last result was handed to JetStream; the transition it causes is pending. */
  pendingSince?: number;
  latencies: number[];
  status?: string;
  onFinished?: () => void;
}

/** A running responder. */
export interface ActivityResponder {
  /** Resolves with the run's transition latencies once it finished `done`; rejects otherwise or after `timeoutMs`. */
  waitForRun(runId: string, timeoutMs: number): Promise<number[]>;
  stop(): Promise<void>;
}

/** Starts answering activity requests on `bus` (the engine's namespace), `concurrency` at a time. */
export async function startActivityResponder(bus: Bus, concurrency: number): Promise<ActivityResponder> {
  const runs = new Map<string, RunProgress>();
  const progressOf = (runId: string): RunProgress => {
    let progress = runs.get(runId);
    if (progress === undefined) {
      progress = { latencies: [] };
      runs.set(runId, progress);
    }
    return progress;
  };

  const finished: LiveSubscription = bus.subscribe(Subjects.runFinished, RunEventSchema, (event) => {
    const progress = progressOf(event.runId);
    if (progress.pendingSince !== undefined) progress.latencies.push(nowMs() - progress.pendingSince);
    progress.pendingSince = undefined;
    progress.status = event.status;
    progress.onFinished?.();
  });

  const consumer: WorkConsumer = await bus.consume({
    stream: Streams.work.name,
    durable: Consumers.orchestratorWork,
    filterSubject: Subjects.workQueue(WorkQueues.orchestrator),
    schema: ActivityRequestSchema,
    concurrency,
    handler: async (request) => {
      const progress = progressOf(request.runId);
      if (progress.pendingSince !== undefined) progress.latencies.push(nowMs() - progress.pendingSince);
      const result: ActivityResult = {
        workId: request.workId,
        runId: request.runId,
        state: request.state,
        activity: request.activity,
        attempt: request.attempt,
        ok: true,
        output: {},
        finishedAt: new Date().toISOString(),
      };
      progress.pendingSince = nowMs();
      await bus.publish(Subjects.activityResult, result, { msgId: `${request.workId}:result` });
    },
  });

  return {
    waitForRun(runId, timeoutMs) {
      const progress = progressOf(runId);
      return new Promise<number[]>((resolve, reject) => {
        const timer = setTimeout(() => {
          runs.delete(runId);
          reject(new Error(`run ${runId} did not finish within ${timeoutMs} ms (${progress.latencies.length} transitions seen)`));
        }, timeoutMs);
        const settle = (): void => {
          clearTimeout(timer);
          runs.delete(runId);
          if (progress.status === 'done') resolve(progress.latencies);
          else reject(new Error(`run ${runId} finished ${progress.status ?? '?'}, not done`));
        };
        if (progress.status !== undefined) settle();
        else progress.onFinished = settle;
      });
    },
    async stop() {
      finished.unsubscribe();
      await consumer.stop();
    },
  };
}
