import { KeyedQueue } from './keyed-queue.js';

/** A job the test finishes by hand. */
function gate(): { job: () => Promise<string>; open(value: string): void; fail(err: Error): void; started: () => boolean } {
  let resolve!: (value: string) => void;
  let reject!: (err: Error) => void;
  let started = false;
  const done = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    job: () => {
      started = true;
      return done;
    },
    open: resolve,
    fail: reject,
    started: () => started,
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedQueue', () => {
  it('runs the jobs of one key one after the other, in order, and other keys side by side', async () => {
    const queue = new KeyedQueue();
    const [a1, a2, b1] = [gate(), gate(), gate()];
    const first = queue.run('a', a1.job);
    const second = queue.run('a', a2.job);
    const other = queue.run('b', b1.job);
    await tick();
    expect([a1.started(), a2.started(), b1.started()]).toEqual([true, false, true]);
    a1.open('one');
    expect(await first).toBe('one');
    await tick();
    expect(a2.started()).toBe(true);
    a2.open('two');
    b1.open('other');
    expect([await second, await other]).toEqual(['two', 'other']);
    await tick();
    expect(queue.size).toBe(0);
  });

  it('goes on after a job that failed, which fails its own caller only', async () => {
    const queue = new KeyedQueue();
    const [bad, good] = [gate(), gate()];
    const failed = queue.run('a', bad.job);
    const next = queue.run('a', good.job);
    bad.fail(new Error('boom'));
    await expect(failed).rejects.toThrow('boom');
    await tick();
    good.open('fine');
    expect(await next).toBe('fine');
  });
});
