import { layoutDefinition, pathTaken } from './graph-layout';

const definition = {
  initial: 'intake',
  states: {
    intake: { on: { 'activity.done': { target: 'plan' }, 'activity.failed': { target: 'failed' }, CANCEL: { target: 'cancelled' } } },
    plan: { on: { 'activity.done': 'review' } },
    review: { on: { 'activity.done': [{ target: 'done', guard: 'approved' }, { target: 'failed' }] } },
    done: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
    orphan: {},
  },
};

describe('layoutDefinition', () => {
  it('makes a node per state and an edge per (source, target), events joined', () => {
    const { nodes, edges } = layoutDefinition(definition);
    expect(nodes.map((n) => n.id)).toEqual(['intake', 'plan', 'review', 'done', 'failed', 'cancelled', 'orphan']);
    expect(edges.map((e) => e.id)).toEqual(['intake->plan', 'intake->failed', 'intake->cancelled', 'plan->review', 'review->done', 'review->failed']);
    expect(nodes.find((n) => n.id === 'done')?.final).toBe(true);
  });

  it('layers states by distance from the initial state, unreachable ones last', () => {
    const layers = Object.fromEntries(layoutDefinition(definition).nodes.map((n) => [n.id, n.layer]));
    expect(layers).toEqual({ intake: 0, plan: 1, failed: 1, cancelled: 1, review: 2, done: 3, orphan: 4 });
  });

  it('puts no two nodes on the same spot', () => {
    const spots = layoutDefinition(definition).nodes.map((n) => `${n.x},${n.y}`);
    expect(new Set(spots).size).toBe(spots.length);
  });

  it('survives a document without states', () => {
    expect(layoutDefinition({})).toEqual({ nodes: [], edges: [] });
  });
});

describe('pathTaken', () => {
  it('collects the states entered and the edges used', () => {
    const path = pathTaken([
      { fromState: 'intake', toState: 'plan' },
      { fromState: 'plan', toState: 'review' },
    ]);
    expect([...path.visited]).toEqual(['intake', 'plan', 'review']);
    expect([...path.edges]).toEqual(['intake->plan', 'plan->review']);
  });

  it('takes no step for a note (an escalation recorded while the run stayed where it was)', () => {
    const path = pathTaken([
      { fromState: 'plan', toState: 'code' },
      { fromState: 'code', toState: 'code', note: true },
      { fromState: 'code', toState: 'review' },
    ]);
    expect([...path.edges]).toEqual(['plan->code', 'code->review']);
  });
});
