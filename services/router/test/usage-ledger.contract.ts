/**
 * The contract every {@link UsageLedger} adapter keeps, run by each adapter's tests
 * (`defineUsageLedgerContract('postgres', …)`), so the in-memory ledger used in unit tests
 * behaves as the durable one.
 */
import { emptyTotals, type ModelCallRecord, type UsageLedger } from '../src/store/usage-ledger.js';

/** A call with defaults, overridable per test. */
export function modelCall(overrides: Partial<ModelCallRecord> = {}): ModelCallRecord {
  return {
    at: new Date('2026-12-06T00:00:00Z'),
    taskId: 'task-1',
    subtaskId: 's1',
    attempt: 1,
    phase: 'code',
    role: 'tactical',
    spec: 'deepseek:deepseek-chat',
    scripted: false,
    inputTokens: 100,
    cachedInputTokens: 40,
    outputTokens: 20,
    reasoningTokens: 5,
    costUsd: 0.001,
    latencyMs: 100,
    ok: true,
    ...overrides,
  };
}

/** Registers the contract's tests for one adapter; `create` gives a fresh, empty ledger. */
export function defineUsageLedgerContract(name: string, create: () => Promise<UsageLedger>): void {
  describe(`UsageLedger contract: ${name}`, () => {
    let ledger: UsageLedger;
    beforeEach(async () => {
      ledger = await create();
    });

    it('sums a task spend over its calls only, counting input and output tokens', async () => {
      await ledger.record(modelCall());
      await ledger.record(modelCall({ phase: 'plan', spec: 'gemini:gemini-2.5-pro', inputTokens: 1000, outputTokens: 50, costUsd: 0.01 }));
      await ledger.record(modelCall({ taskId: 'task-2', inputTokens: 999_999 }));
      const spend = await ledger.taskSpend('task-1');
      expect(spend.tokens).toBe(120 + 1050);
      expect(spend.usd).toBeCloseTo(0.011, 9);
      expect(await ledger.taskSpend('nobody')).toEqual({ tokens: 0, usd: 0 });
    });

    it('gives totals per phase and per model, with unpriced and scripted calls counted apart', async () => {
      await ledger.record(modelCall());
      await ledger.record(modelCall({ costUsd: null, spec: 'openai:unpriced-model' }));
      await ledger.record(modelCall({ phase: 'plan', spec: 'scripted', scripted: true, costUsd: 0 }));
      const usage = await ledger.taskUsage('task-1');
      expect(usage.total).toEqual({
        calls: 3,
        inputTokens: 300,
        cachedInputTokens: 120,
        outputTokens: 60,
        reasoningTokens: 15,
        costUsd: expect.closeTo(0.001, 9) as unknown as number,
        unpricedCalls: 1,
        scriptedCalls: 1,
      });
      expect(usage.byPhase.map((p) => [p.phase, p.totals.calls])).toEqual([
        ['code', 2],
        ['plan', 1],
      ]);
      expect(await ledger.taskUsage('nobody')).toEqual({ taskId: 'nobody', total: emptyTotals(), byPhase: [], byModel: [] });
      expect(usage.byModel.map((m) => [m.spec, m.totals.calls, m.totals.unpricedCalls])).toEqual([
        ['deepseek:deepseek-chat', 1, 0],
        ['openai:unpriced-model', 1, 1],
        ['scripted', 1, 0],
      ]);
    });

    it('sums several tasks at once, one entry per distinct id in the order asked, zero for a task without calls', async () => {
      await ledger.record(modelCall());
      await ledger.record(modelCall({ costUsd: null, scripted: true, outputTokens: 7 }));
      await ledger.record(modelCall({ taskId: 'task-2', inputTokens: 5 }));
      await ledger.record(modelCall({ taskId: undefined, inputTokens: 9 }));
      const totals = await ledger.taskTotals(['nobody', 'task-2', 'task-1', 'task-2']);
      expect(totals.map((t) => t.taskId)).toEqual(['nobody', 'task-2', 'task-1']);
      expect(totals[0]!.total).toEqual(emptyTotals());
      expect(totals[1]!.total).toMatchObject({ calls: 1, inputTokens: 5, outputTokens: 20 });
      expect(totals[2]!.total).toEqual({ ...(await ledger.taskUsage('task-1')).total, costUsd: expect.closeTo(0.001, 9) as unknown as number });
      expect(totals[2]!.total).toMatchObject({ calls: 2, outputTokens: 27, unpricedCalls: 1, scriptedCalls: 1 });
      expect(await ledger.taskTotals([])).toEqual([]);
    });

    it('credits each model with the verdicts of the attempts it worked, once per attempt', async () => {
      await ledger.record(modelCall({ subtaskId: 's1', attempt: 1 }));
      await ledger.record(modelCall({ subtaskId: 's1', attempt: 1, latencyMs: 300 }));
      await ledger.record(modelCall({ subtaskId: 's1', attempt: 2, spec: 'gemini:gemini-2.5-pro', role: 'strategic' }));
      await ledger.record(modelCall({ subtaskId: 's2', attempt: 1, ok: false, errorCode: 'PROVIDER_UNAVAILABLE', inputTokens: 0, outputTokens: 0 }));
      await ledger.recordVerdict({ taskId: 'task-1', subtaskId: 's1', attempt: 1, ok: false, at: new Date() });
      await ledger.recordVerdict({ taskId: 'task-1', subtaskId: 's1', attempt: 1, ok: true, at: new Date() }); // a repeat keeps the first
      await ledger.recordVerdict({ taskId: 'task-1', subtaskId: 's1', attempt: 2, ok: true, at: new Date() });
      const stats = await ledger.modelStats('code');
      const deepseek = stats.find((s) => s.spec === 'deepseek:deepseek-chat');
      const gemini = stats.find((s) => s.spec === 'gemini:gemini-2.5-pro');
      expect(deepseek).toMatchObject({ phase: 'code', failedCalls: 1, verdicts: 1, successes: 0 });
      expect(deepseek?.totals.calls).toBe(3);
      expect(deepseek?.latencyP50Ms).toBe(100);
      expect(gemini).toMatchObject({ verdicts: 1, successes: 1 });
      expect(await ledger.modelStats('plan')).toEqual([]);
    });
  });
}
