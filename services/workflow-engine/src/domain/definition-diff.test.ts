import { diffDefinitions, toJsonPointer } from './definition-diff.js';

describe('diffDefinitions', () => {
  it('is empty for equal documents, whatever their key order', () => {
    expect(diffDefinitions({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it('reports added, removed and changed values as JSON pointers, sorted by path', () => {
    const before = { id: 'coding', initial: 'intake', states: { intake: { on: { GO: 'plan' } }, plan: { type: 'final' }, old: { type: 'final' } } };
    const after = { id: 'coding', initial: 'intake', description: 'd', states: { intake: { on: { GO: 'review', STOP: 'plan' } }, plan: { type: 'final' } } };
    expect(diffDefinitions(before, after)).toEqual([
      { path: '/description', op: 'added', after: 'd' },
      { path: '/states/intake/on/GO', op: 'changed', before: 'plan', after: 'review' },
      { path: '/states/intake/on/STOP', op: 'added', after: 'plan' },
      { path: '/states/old', op: 'removed', before: { type: 'final' } },
    ]);
  });

  it('compares arrays index by index, indices in numeric order', () => {
    const before = { actions: Array.from({ length: 11 }, (_, i) => `a${i}`) };
    const after = { actions: [...before.actions.slice(0, 2), 'x', ...before.actions.slice(3, 10)] };
    expect(diffDefinitions(before, after)).toEqual([
      { path: '/actions/2', op: 'changed', before: 'a2', after: 'x' },
      { path: '/actions/10', op: 'removed', before: 'a10' },
    ]);
  });

  it('reports a change of type once, at the value itself', () => {
    expect(diffDefinitions({ on: { GO: 'plan' } }, { on: { GO: { target: 'plan' } } })).toEqual([
      { path: '/on/GO', op: 'changed', before: 'plan', after: { target: 'plan' } },
    ]);
    expect(diffDefinitions({ v: null }, { v: 0 })).toEqual([{ path: '/v', op: 'changed', before: null, after: 0 }]);
  });

  it('escapes ~ and / in keys (RFC 6901) and treats the whole document as ""', () => {
    expect(toJsonPointer(['states', 'a/b', 'x~y'])).toBe('/states/a~1b/x~0y');
    expect(diffDefinitions({ on: {} }, { on: { 'activity/done~1': 'x' } })).toEqual([{ path: '/on/activity~1done~01', op: 'added', after: 'x' }]);
    expect(diffDefinitions([1], { a: 1 })).toEqual([{ path: '', op: 'changed', before: [1], after: { a: 1 } }]);
  });
});
