import { LeaseSet } from './lease-set.js';

describe('LeaseSet', () => {
  it('asks only for concerns no held lease covers, once each', () => {
    const set = new LeaseSet();
    expect(set.missing(['file:/r/a', 'file:/r/a', 'git-index:/r'])).toEqual(['file:/r/a', 'git-index:/r']);
    set.add({ leaseId: 'l1', concerns: ['file:/r/a'], fencingToken: 1 });
    expect(set.missing(['file:/r/a'])).toEqual([]);
    expect(set.missing(['git-index:/r', 'file:/r/a'])).toEqual(['git-index:/r']);
  });

  it('counts files and directories inside a held directory as held', () => {
    const set = new LeaseSet();
    set.add({ leaseId: 'l1', concerns: ['dir:/r/src'], fencingToken: 1 });
    expect(set.missing(['file:/r/src/a.ts', 'dir:/r/src/lib', 'dir:/r/src', 'file:/r/srcx/a.ts', 'file:/r/b.ts'])).toEqual([
      'file:/r/srcx/a.ts',
      'file:/r/b.ts',
    ]);
  });

  it('asks again for the concerns of a lease that was lost', () => {
    const set = new LeaseSet();
    set.add({ leaseId: 'l1', concerns: ['file:/r/a'], fencingToken: 1 });
    set.remove('l1');
    expect(set.missing(['file:/r/a'])).toEqual(['file:/r/a']);
  });

  it('hands every lease over for release and then holds none', () => {
    const set = new LeaseSet();
    set.add({ leaseId: 'l1', concerns: ['file:/r/a'], fencingToken: 1 });
    set.add({ leaseId: 'l2', concerns: ['git-index:/r'], fencingToken: 2 });
    set.refresh('l2', 5);
    expect(set.clear()).toEqual([
      { leaseId: 'l1', concerns: ['file:/r/a'], fencingToken: 1 },
      { leaseId: 'l2', concerns: ['git-index:/r'], fencingToken: 5 },
    ]);
    expect(set.size).toBe(0);
    expect(set.missing(['file:/r/a'])).toEqual(['file:/r/a']);
  });
});
