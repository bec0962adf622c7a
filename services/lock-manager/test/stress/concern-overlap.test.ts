/** The tests' own overlap rule, checked on the cases the stress test relies on. */
import { concernsOverlap, leasesConflict } from './concern-overlap.js';

it('covers paths under a repo or dir, and only those', () => {
  expect(concernsOverlap('repo:/r', 'file:/r/src/a/x.ts')).toBe(true);
  expect(concernsOverlap('dir:/r/src', 'dir:/r/src/a')).toBe(true);
  expect(concernsOverlap('file:/r/src/a/x.ts', 'dir:/r/src/a')).toBe(true);
  expect(concernsOverlap('repo:/r', 'dir:/r')).toBe(true);
  expect(concernsOverlap('dir:/r/src/a', 'file:/r/src/b.ts')).toBe(false);
  expect(concernsOverlap('dir:/r/src', 'file:/r/srcx.ts')).toBe(false);
  expect(concernsOverlap('file:/r/src/a/x.ts', 'file:/r/src/a/y.ts')).toBe(false);
  expect(concernsOverlap('file:/r/a', 'dir:/r/a/b')).toBe(false);
  expect(concernsOverlap('resource:db', 'resource:db')).toBe(true);
  expect(concernsOverlap('resource:db', 'dir:/r')).toBe(false);
});

it('lets shared holders overlap and nothing else', () => {
  const sharedDir = { exclusive: [], shared: ['dir:/r/src'] };
  const sharedRepo = { exclusive: [], shared: ['repo:/r'] };
  const exclusiveFile = { exclusive: ['file:/r/src/b.ts'], shared: [] };
  expect(leasesConflict(sharedDir, sharedRepo)).toBe(false);
  expect(leasesConflict(sharedDir, exclusiveFile)).toBe(true);
  expect(leasesConflict(exclusiveFile, sharedRepo)).toBe(true);
  expect(leasesConflict(exclusiveFile, { exclusive: ['file:/r/docs/a.md'], shared: ['dir:/r/docs'] })).toBe(false);
});
