import { concernsConflict, concernsOverlap, findClash } from './concern-overlap.js';

describe('concernsOverlap', () => {
  it.each([
    ['dir:/r/src', 'file:/r/src/a.ts'],
    ['file:/r/src/a.ts', 'dir:/r/src'],
    ['dir:/r', 'dir:/r/src/deep'],
    ['repo:/r', 'file:/r/README.md'],
    ['dir:/r/src', 'repo:/r'],
    ['repo:/r', 'dir:/r'],
    ['file:/r/x', 'dir:/r/x'],
    ['dir:/', 'file:/anything'],
    ['repo:/', 'repo:/r'],
    ['git-index:/r', 'git-index:/r'],
    ['port:80', 'port:80'],
  ])('%s overlaps %s', (a, b) => {
    expect(concernsOverlap(a, b)).toBe(true);
    expect(concernsOverlap(b, a)).toBe(true);
  });

  it.each([
    ['dir:/r/src', 'dir:/r/srcx'],
    ['dir:/r/src', 'file:/r/src2/a.ts'],
    ['dir:/r/a', 'dir:/r/b'],
    ['file:/r/a', 'file:/r/a/b'],
    ['repo:/r1', 'repo:/r10'],
    ['git-index:/r', 'repo:/r'],
    ['git-index:/r', 'git-index:/r/sub'],
    ['resource:/r', 'dir:/r'],
    ['resource:db', 'resource:db2'],
    ['port:80', 'port:8080'],
  ])('%s does not overlap %s', (a, b) => {
    expect(concernsOverlap(a, b)).toBe(false);
    expect(concernsOverlap(b, a)).toBe(false);
  });
});

describe('concernsConflict', () => {
  it('conflicts unless both are shared', () => {
    expect(concernsConflict('dir:/r', 'shared', 'file:/r/a', 'shared')).toBe(false);
    expect(concernsConflict('dir:/r', 'shared', 'file:/r/a', 'exclusive')).toBe(true);
    expect(concernsConflict('dir:/r', 'exclusive', 'file:/r/a', 'shared')).toBe(true);
    expect(concernsConflict('dir:/r', 'exclusive', 'file:/r/a', 'exclusive')).toBe(true);
    expect(concernsConflict('dir:/r', 'exclusive', 'file:/s/a', 'exclusive')).toBe(false);
  });
});

describe('findClash', () => {
  it('names the first requested concern that clashes and the held one', () => {
    const held = { concerns: ['file:/r/out'], sharedConcerns: ['dir:/r/lib'] };
    expect(findClash({ concerns: ['port:1', 'dir:/r/lib/x'], sharedConcerns: [] }, held)).toEqual({
      requested: 'dir:/r/lib/x',
      held: 'dir:/r/lib',
      heldMode: 'shared',
    });
    expect(findClash({ concerns: [], sharedConcerns: ['repo:/r'] }, held)).toEqual({
      requested: 'repo:/r',
      held: 'file:/r/out',
      heldMode: 'exclusive',
    });
    expect(findClash({ concerns: [], sharedConcerns: ['file:/r/lib/a.ts'] }, held)).toBeUndefined();
    expect(findClash({ concerns: ['file:/r/other'], sharedConcerns: [] }, held)).toBeUndefined();
  });
});
