import type { WorkStepEvent } from '@maestro/contracts';
import { ManualClock, OperationalError, type Logger, type LogFields } from '@maestro/runtime';
import { StepOutbox, StepOutboxDefaults, type StepDropReason, type StepOutboxOptions } from './step-outbox.js';

/** Settles every promise callback queued so far. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A stream that stores what it acks and can be taken down (publishes then throw, as during a
 * NATS restart), or made to refuse chosen steps with a chosen error.
 */
class FlakyStream {
  readonly stored: WorkStepEvent[] = [];
  calls = 0;
  down = false;
  /** The error a publish of `event` throws, if any, besides `down`. */
  refuse: (event: WorkStepEvent) => unknown = () => undefined;

  async publishStep(event: WorkStepEvent): Promise<void> {
    this.calls++;
    if (this.down) throw new OperationalError('BUS_PUBLISH_FAILED', 'could not publish: connection lost');
    const refused = this.refuse(event);
    if (refused !== undefined) throw refused;
    this.stored.push(event);
  }
}

/** Records log lines by level. */
function recordingLogger(): Logger & { lines: { level: string; message: string; fields: LogFields | undefined }[] } {
  const lines: { level: string; message: string; fields: LogFields | undefined }[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields });
    };
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

function step(subtaskId: string, index: number): WorkStepEvent {
  return { taskId: 't', runId: 'r', subtaskId, executorId: 'e', attempt: 1, step: index, kind: 'model', summary: `${subtaskId}#${index}`, ok: true, at: '2026-01-01T00:00:00.000Z' };
}

function setup(options: Partial<Pick<StepOutboxOptions, 'capacity' | 'maxAttempts'>> = {}) {
  const clock = new ManualClock();
  const stream = new FlakyStream();
  const logger = recordingLogger();
  const drops: StepDropReason[] = [];
  const outbox = new StepOutbox({ publisher: stream, clock, logger, ...options, retryBaseMs: 100, retryMaxMs: 1_000, onDropped: (reason) => drops.push(reason) });
  return { clock, stream, logger, outbox, drops };
}

describe('StepOutbox', () => {
  it('publishes steps in the order they were queued', async () => {
    const { stream, outbox } = setup();
    for (let i = 0; i < 5; i++) outbox.enqueue('w1', step('a', i));
    await outbox.flushed('w1');
    expect(stream.stored.map((e) => e.step)).toEqual([0, 1, 2, 3, 4]);
    expect(outbox.counts()).toEqual({ pending: 0, published: 5, dropped: 0 });
  });

  it('keeps steps while the stream is down and publishes each once, in order, after it is back (retries on the clock)', async () => {
    const { clock, stream, outbox, logger } = setup();
    stream.down = true;
    for (let i = 0; i < 3; i++) outbox.enqueue('w1', step('a', i));
    await settle();
    expect(stream.calls).toBe(1);
    // Backoff: 100, 200, 400 ms … nothing is retried before its pause ran out.
    clock.advance(99);
    await settle();
    expect(stream.calls).toBe(1);
    clock.advance(1);
    await settle();
    expect(stream.calls).toBe(2);
    clock.advance(200);
    await settle();
    expect(stream.calls).toBe(3);

    let flushed = false;
    void outbox.flushed('w1').then(() => (flushed = true));
    outbox.enqueue('w1', step('a', 3));
    await settle();
    expect(flushed).toBe(false);

    stream.down = false;
    clock.advance(400);
    await settle();
    expect(stream.stored.map((e) => e.step)).toEqual([0, 1, 2, 3]);
    expect(flushed).toBe(true);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(logger.lines.some((l) => l.level === 'info' && l.message === 'work step events publishing again')).toBe(true);
  });

  it('caps the retry pause at retryMaxMs', async () => {
    const { clock, stream, outbox } = setup();
    stream.down = true;
    outbox.enqueue('w1', step('a', 0));
    await settle();
    for (let i = 0; i < 10; i++) {
      clock.advance(1_000);
      await settle();
    }
    // One call, then one per capped pause.
    expect(stream.calls).toBe(11);
  });

  it('flushes one work item without waiting for steps queued after its own', async () => {
    const { clock, stream, outbox } = setup();
    stream.down = true;
    outbox.enqueue('w1', step('a', 0));
    outbox.enqueue('w2', step('b', 0));
    const order: string[] = [];
    void outbox.flushed('w1').then(() => order.push('w1'));
    void outbox.flushed('w2').then(() => order.push('w2'));
    await settle();
    stream.down = false;
    clock.advance(100);
    await settle();
    expect(order).toEqual(['w1', 'w2']);
    expect(await outbox.flushed('unknown').then(() => 'resolved')).toBe('resolved');
  });

  it('when full, drops the oldest queued step (never the one being sent), logs it at error with counts, and still flushes', async () => {
    const { clock, stream, outbox, logger, drops } = setup({ capacity: 2 });
    stream.down = true;
    outbox.enqueue('w1', step('a', 0)); // being sent
    await settle();
    outbox.enqueue('w1', step('a', 1));
    outbox.enqueue('w1', step('a', 2));
    outbox.enqueue('w1', step('a', 3)); // drops a#1
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toBe('step outbox full; oldest work step event dropped');
    expect(errors[0]?.fields).toMatchObject({ subtaskId: 'a', step: 1, capacity: 2, dropped: 1, pending: 2 });

    const flushed = outbox.flushed('w1');
    stream.down = false;
    clock.advance(100);
    await flushed;
    expect(stream.stored.map((e) => e.step)).toEqual([0, 2, 3]);
    expect(outbox.counts()).toEqual({ pending: 0, published: 3, dropped: 1 });
    expect(drops).toEqual(['full']);
  });

  it('when full, drops the oldest waiting step over every work item', async () => {
    const { clock, stream, outbox, logger } = setup({ capacity: 2 });
    stream.down = true;
    outbox.enqueue('w1', step('a', 0)); // being sent
    outbox.enqueue('w2', step('b', 0)); // being sent
    outbox.enqueue('w2', step('b', 1)); // oldest waiting
    outbox.enqueue('w1', step('a', 1));
    outbox.enqueue('w1', step('a', 2)); // drops b#1
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.fields)).toEqual([expect.objectContaining({ subtaskId: 'b', step: 1, reason: 'full' })]);
    await settle();
    stream.down = false;
    clock.advance(100);
    await Promise.all([outbox.flushed('w1'), outbox.flushed('w2')]);
    expect(stream.stored.map((e) => e.summary).sort()).toEqual(['a#0', 'a#1', 'a#2', 'b#0']);
  });

  it('rejects a flush when its signal aborts, keeping the steps queued', async () => {
    const { clock, stream, outbox } = setup();
    stream.down = true;
    outbox.enqueue('w1', step('a', 0));
    const abort = new AbortController();
    const flushed = outbox.flushed('w1', abort.signal);
    abort.abort(new Error('shutting down'));
    await expect(flushed).rejects.toThrow('shutting down');
    stream.down = false;
    clock.advance(100);
    await outbox.flushed('w1');
    expect(stream.stored).toHaveLength(1);
  });

  it('stops retrying when closed and says at error how many steps are lost', async () => {
    const { clock, stream, outbox, logger } = setup();
    stream.down = true;
    outbox.enqueue('w1', step('a', 0));
    outbox.enqueue('w1', step('a', 1));
    await settle();
    outbox.close();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10_000);
    await settle();
    expect(stream.calls).toBe(1);
    expect(logger.lines.find((l) => l.level === 'error')?.fields).toMatchObject({ pending: 2 });
  });

  it('refuses a capacity or an attempt limit that is not a positive integer', () => {
    expect(() => new StepOutbox({ publisher: new FlakyStream(), clock: new ManualClock(), logger: recordingLogger(), capacity: 0 })).toThrow(RangeError);
    expect(() => new StepOutbox({ publisher: new FlakyStream(), clock: new ManualClock(), logger: recordingLogger(), maxAttempts: 1.5 })).toThrow('maxAttempts');
    expect(StepOutboxDefaults.capacity).toBeGreaterThan(0);
  });

  describe('one work item never holds back another', () => {
    it('publishes and flushes a work item while another one\'s step keeps failing', async () => {
      const { clock, stream, outbox } = setup();
      stream.refuse = (event) => (event.subtaskId === 'a' ? new OperationalError('BUS_PUBLISH_FAILED', 'could not publish: timeout') : undefined);
      outbox.enqueue('w1', step('a', 0));
      outbox.enqueue('w1', step('a', 1));
      outbox.enqueue('w2', step('b', 0));
      outbox.enqueue('w2', step('b', 1));
      await outbox.flushed('w2');
      expect(stream.stored.map((e) => e.summary)).toEqual(['b#0', 'b#1']);

      let w1Flushed = false;
      void outbox.flushed('w1').then(() => (w1Flushed = true));
      clock.advance(100);
      await settle();
      expect(w1Flushed).toBe(false);
      // Its own later steps wait behind it: per-item order holds.
      stream.refuse = () => undefined;
      clock.advance(200);
      await settle();
      expect(w1Flushed).toBe(true);
      expect(stream.stored.map((e) => e.summary)).toEqual(['b#0', 'b#1', 'a#0', 'a#1']);
    });

    it('drops a step whose publish fails permanently at once, logs it at error with the error, and goes on with the next', async () => {
      const { stream, outbox, logger, drops } = setup();
      const bug = new TypeError('Cannot read properties of undefined');
      stream.refuse = (event) => (event.summary === 'a#1' ? bug : undefined);
      for (let i = 0; i < 3; i++) outbox.enqueue('w1', step('a', i));
      await outbox.flushed('w1');
      expect(stream.stored.map((e) => e.summary)).toEqual(['a#0', 'a#2']);
      expect(stream.calls).toBe(3);
      expect(drops).toEqual(['permanent']);
      const [error] = logger.lines.filter((l) => l.level === 'error');
      expect(error?.message).toBe('work step event dropped: it cannot be published');
      expect(error?.fields).toMatchObject({ taskId: 't', subtaskId: 'a', step: 1, reason: 'permanent', attempts: 1, err: bug });
      expect(outbox.counts()).toEqual({ pending: 0, published: 2, dropped: 1 });
    });

    it('treats a payload over max_payload as permanent, though the bus wraps it as operational', async () => {
      const { stream, outbox, drops } = setup();
      const tooBig = new Error('max_payload size exceeded');
      stream.refuse = (event) => (event.step === 0 ? new OperationalError('BUS_PUBLISH_FAILED', 'could not publish to maestro.events.work.step', { cause: tooBig }) : undefined);
      outbox.enqueue('w1', step('a', 0));
      outbox.enqueue('w1', step('a', 1));
      await outbox.flushed('w1');
      expect(drops).toEqual(['permanent']);
      expect(stream.stored.map((e) => e.step)).toEqual([1]);
    });

    it('drops a step still failing after maxAttempts (retried on the clock), so its work item flushes', async () => {
      const { clock, stream, outbox, logger, drops } = setup({ maxAttempts: 3 });
      stream.refuse = (event) => (event.step === 0 ? new OperationalError('BUS_PUBLISH_FAILED', 'could not publish: no responders') : undefined);
      outbox.enqueue('w1', step('a', 0));
      outbox.enqueue('w1', step('a', 1));
      let flushed = false;
      void outbox.flushed('w1').then(() => (flushed = true));
      await settle();
      clock.advance(100);
      await settle();
      expect(stream.calls).toBe(2);
      expect(flushed).toBe(false);
      clock.advance(200);
      await settle();
      expect(flushed).toBe(true);
      expect(stream.calls).toBe(4);
      expect(stream.stored.map((e) => e.step)).toEqual([1]);
      expect(drops).toEqual(['attempts']);
      expect(logger.lines.find((l) => l.level === 'error')?.fields).toMatchObject({ step: 0, reason: 'attempts', attempts: 3, err: expect.any(OperationalError) });
      expect(clock.pendingTimers).toBe(0);
    });
  });
});
