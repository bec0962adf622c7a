/**
 * The router's accounting as the gateway sees it (RouterApi), in process: a ledger of model
 * calls the test records, summed per task, phase and model like the real ledger.
 */
import type {
  GetModelStatsRequest,
  GetTaskUsageRequest,
  ListTaskUsageTotalsRequest,
  ListTaskUsageTotalsResponse,
  ModelStats,
  TaskUsage,
  UsageTotals,
} from '@maestro/contracts';
import { OperationalError, invalidField } from '@maestro/runtime';
import type { RouterApi } from '../../src/ports.js';

/** One recorded model call. */
export interface LedgerCall {
  taskId: string;
  phase: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** undefined: the model has no price. */
  costUsd: number | undefined;
  ok: boolean;
  latencyMs: number;
}

function sum(calls: LedgerCall[]): UsageTotals {
  return {
    calls: calls.length,
    inputTokens: calls.reduce((n, c) => n + c.inputTokens, 0),
    cachedInputTokens: 0,
    outputTokens: calls.reduce((n, c) => n + c.outputTokens, 0),
    reasoningTokens: 0,
    costUsd: calls.reduce((n, c) => n + (c.costUsd ?? 0), 0),
    unpricedCalls: calls.filter((c) => c.costUsd === undefined).length,
    scriptedCalls: 0,
  };
}

function groups(calls: LedgerCall[], key: (c: LedgerCall) => string): Map<string, LedgerCall[]> {
  const map = new Map<string, LedgerCall[]>();
  for (const call of calls) map.set(key(call), [...(map.get(key(call)) ?? []), call]);
  return map;
}

/** An in-process router ledger for gateway tests. */
export class FakeRouter implements RouterApi {
  readonly calls: LedgerCall[] = [];
  /** Task ids whose usage the router fails to give (plays a ledger outage for them). */
  readonly unavailableFor = new Set<string>();
  /** Every ListTaskUsageTotals request, so tests can see how often the router was asked. */
  readonly totalsRequests: ListTaskUsageTotalsRequest[] = [];

  private failFor(taskId: string): void {
    if (this.unavailableFor.has(taskId)) throw new OperationalError('LEDGER_UNAVAILABLE', 'router is unavailable (ledger down)');
  }

  async getTaskUsage(request: GetTaskUsageRequest): Promise<TaskUsage> {
    this.failFor(request.taskId);
    const calls = this.calls.filter((c) => c.taskId === request.taskId);
    return {
      taskId: request.taskId,
      total: sum(calls),
      byPhase: [...groups(calls, (c) => c.phase)].map(([phase, list]) => ({ phase, totals: sum(list) })),
      byModel: [...groups(calls, (c) => c.model)].map(([spec, list]) => ({ spec, totals: sum(list) })),
    } as TaskUsage;
  }

  /** One query for the whole list, as the router's: fails whole (the ledger is one database). */
  async listTaskUsageTotals(request: ListTaskUsageTotalsRequest): Promise<ListTaskUsageTotalsResponse> {
    this.totalsRequests.push(request);
    const ids = request.taskIds;
    if (ids.length === 0 || ids.length > 500 || new Set(ids).size !== ids.length || ids.some((id) => id.trim() === '')) {
      throw invalidField('task_ids', 'must name 1 to 500 distinct, non-empty task ids');
    }
    ids.forEach((id) => this.failFor(id));
    return { usages: ids.map((taskId) => ({ taskId, total: sum(this.calls.filter((c) => c.taskId === taskId)) })) };
  }

  async getModelStats(request: GetModelStatsRequest): Promise<ModelStats> {
    const calls = this.calls.filter((c) => request.phase === '' || c.phase === request.phase);
    const byKey = groups(calls, (c) => `${c.model}\u0000${c.phase}`);
    return {
      stats: [...byKey].map(([key, list]) => {
        const [spec, phase] = key.split('\u0000') as [string, string];
        const latencies = list.map((c) => c.latencyMs).sort((a, b) => a - b);
        const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
        const successes = list.filter((c) => c.ok).length;
        return {
          spec, phase, totals: sum(list), failedCalls: list.length - successes, verdicts: list.length, successes,
          successRate: list.length ? successes / list.length : 0, latencyP50Ms: at(0.5), latencyP99Ms: at(0.99),
        };
      }),
    } as ModelStats;
  }
}
