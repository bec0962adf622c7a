import { CachedHistory } from './cached-history.js';
import { RunRowCache } from './run-row-cache.js';
import type { RunRecord, TransitionRecord } from './run-store.js';

function transition(seq: number, event: Record<string, unknown> = { type: 'GO', seq }): TransitionRecord {
  return { runId: 'r1', seq, fromState: `s${seq - 1}`, toState: `s${seq}`, eventType: 'GO', event, at: new Date(1000 * seq) };
}

const run: RunRecord = {
  id: 'r1',
  tenant: 'default',
  definitionTenant: '',
  definitionName: 'coding',
  definitionVersion: 1,
  status: 'running',
  state: 'plan',
  attempt: 1,
  visits: { plan: 1 },
  snapshot: { value: 'plan' },
  context: { input: {}, outputs: {} },
  idempotencyKey: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  timeoutAt: null,
  finishedPublished: false,
  traceParent: null,
};

describe('CachedHistory', () => {
  it('grows by the transitions that follow it, and stays as it is after a step without one', () => {
    const two = CachedHistory.empty.after(transition(1))!.after(transition(2))!;
    expect(two.records().map((t) => t.seq)).toEqual([1, 2]);
    expect(two.after(undefined)).toBe(two);
    expect(CachedHistory.empty.records()).toEqual([]);
  });

  it('is unknown after a transition that does not directly follow (rows it never saw)', () => {
    const one = CachedHistory.empty.after(transition(1))!;
    expect(one.after(transition(3))).toBeUndefined();
    expect(one.after(transition(1))).toBeUndefined();
  });

  it('hands out records of their own: changing them changes nothing kept', () => {
    const kept = CachedHistory.empty.after(transition(1, { type: 'GO', output: { a: 1 } }))!;
    const first = kept.records();
    (first[0]!.event['output'] as Record<string, unknown>)['a'] = 2;
    first[0]!.at.setTime(0);
    first.push(transition(2));
    expect(kept.records()).toEqual([transition(1, { type: 'GO', output: { a: 1 } })]);
  });

  it('is kept with its run only up to the cache\'s size limit', () => {
    const cache = new RunRowCache({ maxHistorySize: 40 });
    const small = CachedHistory.empty.after(transition(1))!;
    cache.remember(run, '10', undefined, small);
    expect(cache.get('r1')?.history?.records().map((t) => t.seq)).toEqual([1]);
    const large = small.after(transition(2, { type: 'GO', output: 'x'.repeat(100) }))!;
    cache.remember(run, '11', undefined, large);
    expect(cache.get('r1')).toMatchObject({ rowVersion: '11' });
    expect(cache.get('r1')?.history).toBeUndefined();
  });
});
