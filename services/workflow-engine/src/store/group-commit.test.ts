import { createSilentLogger } from '@maestro/runtime';
import { GroupCommit } from './group-commit.js';

/** A write of `key`; `bad` ones fail when written alone. */
interface Write {
  key: string;
  value: string;
  bad?: boolean;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A fake store whose commits the test ends by hand: every batch and every lone write waits
 * until `commitNext` (or `failNext`) settles it, so the test decides when anything is durable.
 */
class FakeStore {
  readonly commits: { kind: 'batch' | 'one'; values: string[]; done: Deferred<void> }[] = [];
  /** Values in the order they became durable. */
  readonly committed: string[] = [];
  private settled = 0;

  writeBatch = async (items: readonly Write[]): Promise<string[]> => {
    const done = deferred<void>();
    this.commits.push({ kind: 'batch', values: items.map((w) => w.value), done });
    await done.promise;
    this.committed.push(...items.map((w) => w.value));
    return items.map((w) => `ok ${w.value}`);
  };

  writeOne = async (item: Write): Promise<string> => {
    const done = deferred<void>();
    this.commits.push({ kind: 'one', values: [item.value], done });
    await done.promise;
    if (item.bad === true) throw new Error(`bad row ${item.value}`);
    this.committed.push(item.value);
    return `ok ${item.value}`;
  };

  /** Commits the oldest write not yet settled, then lets the batcher take its next step. */
  async commitNext(): Promise<void> {
    this.commits[this.settled++]!.done.resolve();
    await flushMicrotasks();
  }

  /** Fails the oldest write not yet settled (a batch: nothing of it committed). */
  async failNext(err: Error): Promise<void> {
    this.commits[this.settled++]!.done.reject(err);
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Tracks when each promise settled, so a test can see what is not yet answered. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { settled: () => done, promise };
}

function groupCommit(store: FakeStore, maxBatch?: number): GroupCommit<Write, string> {
  return new GroupCommit<Write, string>({
    writeBatch: store.writeBatch,
    writeOne: store.writeOne,
    keyOf: (w) => w.key,
    logger: createSilentLogger(),
    ...(maxBatch !== undefined ? { maxBatch } : {}),
  });
}

describe('GroupCommit', () => {
  it('writes a lone write at once, alone, and answers it only once committed', async () => {
    const store = new FakeStore();
    const commit = groupCommit(store);
    const a = track(commit.write({ key: 'r1', value: 'a' }));
    await flushMicrotasks();
    // Started without waiting for anything else to arrive.
    expect(store.commits.map((c) => [c.kind, c.values])).toEqual([['one', ['a']]]);
    expect(a.settled()).toBe(false);
    await store.commitNext();
    await expect(a.promise).resolves.toBe('ok a');
  });

  it('writes what arrives during a commit together in the next one, and answers none of it before that commit', async () => {
    const store = new FakeStore();
    const commit = groupCommit(store);
    const first = track(commit.write({ key: 'r1', value: 'a' }));
    const later = ['b', 'c', 'd'].map((value, i) => track(commit.write({ key: `r${i + 2}`, value })));
    await flushMicrotasks();
    expect(store.commits).toHaveLength(1);

    await store.commitNext();
    expect(first.settled()).toBe(true);
    expect(store.commits.map((c) => [c.kind, c.values])).toEqual([
      ['one', ['a']],
      ['batch', ['b', 'c', 'd']],
    ]);
    // The batch is in flight, not committed: nobody of it has an answer yet.
    expect(later.map((w) => w.settled())).toEqual([false, false, false]);
    expect(commit.queued).toBe(0);

    await store.commitNext();
    await expect(Promise.all(later.map((w) => w.promise))).resolves.toEqual(['ok b', 'ok c', 'ok d']);
    expect(store.committed).toEqual(['a', 'b', 'c', 'd']);
  });

  it('never puts two writes of one key in a batch, and keeps each key in order', async () => {
    const store = new FakeStore();
    const commit = groupCommit(store);
    const writes = [
      commit.write({ key: 'r0', value: 'x' }),
      commit.write({ key: 'r1', value: 'r1-first' }),
      commit.write({ key: 'r2', value: 'r2-first' }),
      commit.write({ key: 'r1', value: 'r1-second' }),
      commit.write({ key: 'r1', value: 'r1-third' }),
      commit.write({ key: 'r3', value: 'r3-first' }),
    ];
    await flushMicrotasks();
    for (let i = 0; i < 4; i++) await store.commitNext();
    await Promise.all(writes);
    expect(store.commits.map((c) => c.values)).toEqual([['x'], ['r1-first', 'r2-first', 'r3-first'], ['r1-second'], ['r1-third']]);
    expect(store.committed.filter((v) => v.startsWith('r1'))).toEqual(['r1-first', 'r1-second', 'r1-third']);
  });

  it('bounds a batch at maxBatch; the rest goes in the next one', async () => {
    const store = new FakeStore();
    const commit = groupCommit(store, 2);
    const writes = ['a', 'b', 'c', 'd', 'e'].map((value, i) => commit.write({ key: `r${i}`, value }));
    await flushMicrotasks();
    for (let i = 0; i < 3; i++) await store.commitNext();
    await Promise.all(writes);
    expect(store.commits.map((c) => c.values)).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('retries a failed batch one write at a time, so only the bad row fails its caller', async () => {
    const store = new FakeStore();
    const commit = groupCommit(store);
    const first = commit.write({ key: 'r0', value: 'a' });
    const good1 = track(commit.write({ key: 'r1', value: 'b' }));
    const bad = track(commit.write({ key: 'r2', value: 'c', bad: true }));
    const good2 = track(commit.write({ key: 'r3', value: 'd' }));
    await flushMicrotasks();
    await store.commitNext();
    await first;

    await store.failNext(new Error('check constraint violated'));
    // Nothing of the failed batch was committed, and nobody was answered yet.
    expect(store.committed).toEqual(['a']);
    expect([good1.settled(), bad.settled(), good2.settled()]).toEqual([false, false, false]);
    expect(store.commits.slice(2).map((c) => [c.kind, c.values])).toEqual([
      ['one', ['b']],
      ['one', ['c']],
      ['one', ['d']],
    ]);

    for (let i = 0; i < 3; i++) await store.commitNext();
    await expect(good1.promise).resolves.toBe('ok b');
    await expect(bad.promise).rejects.toThrow('bad row c');
    await expect(good2.promise).resolves.toBe('ok d');
    expect(store.committed).toEqual(['a', 'b', 'd']);
  });

  it('keeps a later write of a key behind the retries of its failed batch', async () => {
    const store = new FakeStore();
    const commit = groupCommit(store);
    const first = commit.write({ key: 'r0', value: 'a' });
    const batched = [commit.write({ key: 'r1', value: 'b' }), commit.write({ key: 'r2', value: 'c' })];
    await flushMicrotasks();
    await store.commitNext();
    await first;
    // Arrives while the batch is in flight.
    const next = commit.write({ key: 'r1', value: 'b2' });
    await store.failNext(new Error('deadlock detected'));
    await store.commitNext();
    await store.commitNext();
    await Promise.all(batched);
    await store.commitNext();
    await next;
    expect(store.committed).toEqual(['a', 'b', 'c', 'b2']);
  });

  it('goes on with the next batch after a lone write failed', async () => {
    const store = new FakeStore();
    const commit = groupCommit(store);
    const bad = commit.write({ key: 'r1', value: 'a', bad: true });
    const after = [commit.write({ key: 'r2', value: 'b' }), commit.write({ key: 'r3', value: 'c' })];
    await flushMicrotasks();
    await store.commitNext();
    await expect(bad).rejects.toThrow('bad row a');
    await store.commitNext();
    await expect(Promise.all(after)).resolves.toEqual(['ok b', 'ok c']);
  });
});
