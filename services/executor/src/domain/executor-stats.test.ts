import { ExecutorStats } from './executor-stats.js';

describe('ExecutorStats', () => {
  it('counts work in hand and results by outcome', () => {
    const stats = new ExecutorStats();
    stats.started();
    stats.started();
    stats.recorded(true);
    stats.ended();
    expect(stats.snapshot()).toEqual({ inFlight: 1, completed: 1, failed: 0, draining: false });
    stats.recorded(false);
    stats.ended();
    stats.ended();
    stats.markDraining();
    expect(stats.snapshot()).toEqual({ inFlight: 0, completed: 1, failed: 1, draining: true });
  });
});
