import { concernCovers, concernsOverlap, firstOverlap, isPathWithin } from './concern-overlap.js';

describe('concernsOverlap', () => {
  it.each([
    ['file:/r/a.ts', 'file:/r/a.ts', true],
    ['dir:/r/src', 'file:/r/src/a.ts', true],
    ['file:/r/src/a.ts', 'dir:/r/src', true],
    ['repo:/r', 'dir:/r/src', true],
    ['repo:/r', 'file:/r/src/deep/a.ts', true],
    ['dir:/r', 'dir:/r/src', true],
    ['dir:/r/src', 'repo:/r/src', true],
    ['dir:/r/src', 'dir:/r/srcx', false],
    ['file:/r/src', 'file:/r/src/a.ts', false],
    ['file:/r/a.ts', 'file:/r/b.ts', false],
    ['git-index:/r', 'repo:/r', false],
    ['git-index:/r', 'git-index:/r', true],
    ['port:3000', 'port:3000', true],
    ['port:3000', 'port:3001', false],
    ['resource:db', 'resource:db', true],
    ['resource:/r', 'dir:/r', false],
    ['dir:/', 'file:/anything', true],
  ])('%s and %s → %s', (a, b, expected) => {
    expect(concernsOverlap(a, b)).toBe(expected);
    expect(concernsOverlap(b, a)).toBe(expected);
  });
});

describe('concernCovers', () => {
  it('is true for the same concern and for a repo or dir over what lies under it, never the reverse', () => {
    expect(concernCovers('file:/r/a.ts', 'file:/r/a.ts')).toBe(true);
    expect(concernCovers('dir:/r/src', 'file:/r/src/a.ts')).toBe(true);
    expect(concernCovers('repo:/r', 'dir:/r/src')).toBe(true);
    expect(concernCovers('file:/r/src/a.ts', 'dir:/r/src')).toBe(false);
    expect(concernCovers('dir:/r/src', 'file:/r/srcx/a.ts')).toBe(false);
    expect(concernCovers('git-index:/r', 'file:/r/a.ts')).toBe(false);
  });
});

describe('firstOverlap and isPathWithin', () => {
  it('finds the first overlapping pair, or nothing', () => {
    expect(firstOverlap(['file:/r/a', 'dir:/r/b'], ['file:/r/b/c'])).toEqual(['dir:/r/b', 'file:/r/b/c']);
    expect(firstOverlap(['file:/r/a'], ['file:/r/b', 'port:1'])).toBeUndefined();
    expect(isPathWithin('/r/src', '/r')).toBe(true);
    expect(isPathWithin('/rx', '/r')).toBe(false);
  });
});
