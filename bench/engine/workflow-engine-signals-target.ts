/**
 * The workflow-engine driven by signals: a run of `bench-signals` is started with StartRun and
 * moved through its four states by four SendEvent(`NEXT`) calls, each answered after the
 * transition is committed (snapshot and history row in one PostgreSQL transaction). A step's
 * latency is its SendEvent call, measured by the caller over gRPC.
 */
import { WorkflowServiceClient } from '@maestro/contracts';
import { createGrpcClient } from '@maestro/runtime';
import { BENCH_STATES, BenchDefinitionNames, NEXT_EVENT, signalsDefinition } from './bench-definitions.js';
import type { RunTarget } from './run-target.js';
import { nowMs } from './stats.js';

/** Stores the definition through the engine at `address` and returns the target. */
export async function createWorkflowEngineSignalsTarget(address: string): Promise<RunTarget> {
  const grpc = createGrpcClient(WorkflowServiceClient, address, { deadlineMs: 30_000 });
  await grpc.call.putDefinition({ tenant: '', name: BenchDefinitionNames.signals, definition: signalsDefinition() });
  const expected = [...BENCH_STATES.slice(1).map((s) => s.state), 'done'];
  return {
    name: 'CodeMaestro workflow-engine, SendEvent (gRPC)',
    settings: `engine at ${address}; StartRun, then ${expected.length} × SendEvent("${NEXT_EVENT}"), each answered after its commit`,
    async run(index: number): Promise<number[]> {
      const started = await grpc.call.startRun({ tenant: '',
        definitionName: BenchDefinitionNames.signals,
        definitionVersion: 0,
        input: { bench: index },
        idempotencyKey: '',
      });
      const latencies: number[] = [];
      for (const state of expected) {
        const sent = nowMs();
        const run = await grpc.call.sendEvent({ tenant: '', runId: started.id, type: NEXT_EVENT, payload: {} });
        latencies.push(nowMs() - sent);
        if (run.state !== state) throw new Error(`run ${started.id}: expected state "${state}" after ${NEXT_EVENT}, the engine says "${run.state}"`);
      }
      return latencies;
    },
    async close(): Promise<void> {
      grpc.close();
    },
  };
}
