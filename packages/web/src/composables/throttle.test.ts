import { throttle } from './throttle';

describe('throttle', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs once per interval however often it is scheduled, and not after cancel', () => {
    const run = jest.fn();
    const t = throttle(run, 100);
    t.schedule();
    t.schedule();
    jest.advanceTimersByTime(100);
    expect(run).toHaveBeenCalledTimes(1);
    t.schedule();
    t.cancel();
    jest.advanceTimersByTime(100);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
