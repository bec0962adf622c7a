/**
 * A {@link UsageLedger} in process memory: for unit tests and single-process tools. Not
 * durable; the router itself runs {@link PostgresUsageLedger}.
 */
import {
  emptyTotals,
  type ModelCallRecord,
  type ModelPhaseStats,
  type SubtaskVerdict,
  type TaskSpend,
  type TaskUsageTotals,
  type UsageLedger,
  type UsageTotals,
} from './usage-ledger.js';

function add(totals: UsageTotals, call: ModelCallRecord): void {
  totals.calls += 1;
  totals.inputTokens += call.inputTokens;
  totals.cachedInputTokens += call.cachedInputTokens;
  totals.outputTokens += call.outputTokens;
  totals.reasoningTokens += call.reasoningTokens;
  totals.costUsd += call.costUsd ?? 0;
  if (call.costUsd === null) totals.unpricedCalls += 1;
  if (call.scripted) totals.scriptedCalls += 1;
}

/** The value at quantile `q` (0..1) of sorted numbers, interpolated as PostgreSQL's percentile_cont. */
export function percentileCont(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

function groupTotals<K>(calls: readonly ModelCallRecord[], key: (c: ModelCallRecord) => K): Map<K, UsageTotals> {
  const groups = new Map<K, UsageTotals>();
  for (const call of calls) {
    const k = key(call);
    const totals = groups.get(k) ?? emptyTotals();
    add(totals, call);
    groups.set(k, totals);
  }
  return groups;
}

/** Code-point order, as PostgreSQL's `collate "C"` sorts. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** See the module comment. */
export class InMemoryUsageLedger implements UsageLedger {
  private readonly calls: ModelCallRecord[] = [];
  private readonly verdicts = new Map<string, SubtaskVerdict>();

  async record(call: ModelCallRecord): Promise<void> {
    this.calls.push({ ...call });
  }

  async taskSpend(taskId: string): Promise<TaskSpend> {
    const totals = emptyTotals();
    this.calls.filter((c) => c.taskId === taskId).forEach((c) => add(totals, c));
    return { tokens: totals.inputTokens + totals.outputTokens, usd: totals.costUsd };
  }

  async taskUsage(taskId: string): Promise<TaskUsageTotals> {
    const calls = this.calls.filter((c) => c.taskId === taskId);
    const total = emptyTotals();
    calls.forEach((c) => add(total, c));
    const sortedEntries = <K extends string>(m: Map<K, UsageTotals>) => [...m.entries()].sort(([a], [b]) => byCodePoint(a, b));
    return {
      taskId,
      total,
      byPhase: sortedEntries(groupTotals(calls, (c) => c.phase)).map(([phase, totals]) => ({ phase, totals })),
      byModel: sortedEntries(groupTotals(calls, (c) => c.spec)).map(([spec, totals]) => ({ spec, totals })),
    };
  }

  async taskTotals(taskIds: readonly string[]): Promise<Array<{ taskId: string; total: UsageTotals }>> {
    const wanted = new Set(taskIds);
    const totals = groupTotals(
      this.calls.filter((c) => c.taskId !== undefined && wanted.has(c.taskId)),
      (c) => c.taskId!,
    );
    return [...wanted].map((taskId) => ({ taskId, total: totals.get(taskId) ?? emptyTotals() }));
  }

  async recordVerdict(verdict: SubtaskVerdict): Promise<void> {
    const key = `${verdict.taskId}\0${verdict.subtaskId}\0${verdict.attempt}`;
    if (!this.verdicts.has(key)) this.verdicts.set(key, { ...verdict });
  }

  async modelStats(phase?: string): Promise<ModelPhaseStats[]> {
    const calls = this.calls.filter((c) => phase === undefined || c.phase === phase);
    const groups = new Map<string, ModelCallRecord[]>();
    for (const call of calls) {
      const key = `${call.spec}\0${call.phase}`;
      groups.set(key, [...(groups.get(key) ?? []), call]);
    }
    const stats: ModelPhaseStats[] = [];
    for (const [key, group] of groups) {
      const [spec, callPhase] = key.split('\0') as [string, string];
      const totals = emptyTotals();
      group.forEach((c) => add(totals, c));
      const attempts = new Set(
        group.filter((c) => c.taskId !== undefined && c.subtaskId !== undefined && c.attempt > 0).map((c) => `${c.taskId}\0${c.subtaskId}\0${c.attempt}`),
      );
      const judged = [...attempts].map((a) => this.verdicts.get(a)).filter((v): v is SubtaskVerdict => v !== undefined);
      const latencies = group.map((c) => c.latencyMs).sort((a, b) => a - b);
      stats.push({
        spec,
        phase: callPhase,
        totals,
        failedCalls: group.filter((c) => !c.ok).length,
        verdicts: judged.length,
        successes: judged.filter((v) => v.ok).length,
        latencyP50Ms: percentileCont(latencies, 0.5),
        latencyP99Ms: percentileCont(latencies, 0.99),
      });
    }
    return stats.sort((a, b) => byCodePoint(a.spec, b.spec) || byCodePoint(a.phase, b.phase));
  }
}
