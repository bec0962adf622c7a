import { KeyedMutex } from './keyed-mutex.js';

describe('KeyedMutex', () => {
  it('runs work of one key one at a time, in order, even after a failure', async () => {
    const mutex = new KeyedMutex();
    const order: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const first = mutex.run('repo', async () => {
      order.push('first:start');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('first:end');
      throw new Error('boom');
    });
    const second = mutex.run('repo', async () => {
      order.push('second');
      return 2;
    });
    const other = mutex.run('other-repo', async () => {
      order.push('other');
      return 3;
    });
    await other;
    expect(order).toEqual(['first:start', 'other']);
    releaseFirst();
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe(2);
    expect(order).toEqual(['first:start', 'other', 'first:end', 'second']);
    await new Promise((r) => setImmediate(r));
    expect(mutex.busyKeys).toBe(0);
  });
});
