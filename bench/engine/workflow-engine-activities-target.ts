/**
 * The workflow-engine as runs really advance: StartRun over gRPC, then the engine requests
 * each state's activity on JetStream and moves on when its result comes back (answered at once
 * by {@link startActivityResponder}), until `run.finished`. Each transition is the whole durable
 * loop: result stored by JetStream → the engine's result consumer → snapshot and history row
 * committed in one transaction → next request (or `run.finished`) published and delivered.
 */
import type { Bus } from '@maestro/bus';
import { WorkflowServiceClient } from '@maestro/contracts';
import { createGrpcClient } from '@maestro/runtime';
import { startActivityResponder } from './activity-responder.js';
import { BenchDefinitionNames, activitiesDefinition } from './bench-definitions.js';
import type { RunTarget } from './run-target.js';

/** How the activities target is set up. */
export interface ActivitiesTargetOptions {
  /** The engine's gRPC address. */
  address: string;
  /** A bus in the engine's namespace. */
  bus: Bus;
  /** Requests the responder handles at once. @default 16 */
  responderConcurrency?: number;
  /** A run that has not finished after this long fails. @default 30000 */
  runTimeoutMs?: number;
  /** Describes the engine's own settings in the printed settings line. @default '' */
  engineSettings?: string;
}

const DEFAULTS = { responderConcurrency: 16, runTimeoutMs: 30_000, engineSettings: '' } as const;

/** Stores the definition, starts the responder and returns the target. */
export async function createWorkflowEngineActivitiesTarget(options: ActivitiesTargetOptions): Promise<RunTarget> {
  const { responderConcurrency, runTimeoutMs, engineSettings } = { ...DEFAULTS, ...options };
  const grpc = createGrpcClient(WorkflowServiceClient, options.address, { deadlineMs: 30_000 });
  await grpc.call.putDefinition({ tenant: '', name: BenchDefinitionNames.activities, definition: activitiesDefinition() });
  const responder = await startActivityResponder(options.bus, responderConcurrency);
  return {
    name: 'CodeMaestro workflow-engine, activities (gRPC + JetStream)',
    settings:
      `engine at ${options.address}${engineSettings}; StartRun, then each state's activity answered at once ` +
      `by a bench responder (durable consumer, concurrency ${responderConcurrency}); a run ends at run.finished`,
    async run(index: number): Promise<number[]> {
      const started = await grpc.call.startRun({ tenant: '',
        definitionName: BenchDefinitionNames.activities,
        definitionVersion: 0,
        input: { bench: index },
        idempotencyKey: '',
      });
      return responder.waitForRun(started.id, runTimeoutMs);
    },
    async close(): Promise<void> {
      grpc.close();
      await responder.stop();
    },
  };
}
