/**
 * One provider call's abort plumbing, shared by the adapters: the caller's signal, a deadline
 * and a stream idle timer, folded into the one `AbortSignal` handed to the SDK, with the reason
 * it fired kept for the error message. A call nobody waits for any more is cut (`cleanup`), so
 * an abandoned stream never keeps its HTTP request open.
 */

/** What ended a call: its caller, the deadline, a silent stream, or our own clean-up. */
export type AbortCause = 'cancelled' | 'timeout' | 'idle' | 'cleanup';

/** See the module comment. */
export class CallGuard {
  readonly controller = new AbortController();
  cause: AbortCause | undefined;
  /** The limit of the timer that fired, for the error message. */
  limitMs = 0;
  private deadline: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private readonly aborted: Promise<never>;
  private readonly onCallerAbort = (): void => this.abort('cancelled');

  constructor(private readonly caller: AbortSignal | undefined) {
    this.aborted = new Promise<never>((_, reject) => {
      this.controller.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
    // Only ever observed through race(); never an unhandled rejection.
    this.aborted.catch(() => undefined);
    if (caller?.aborted === true) this.abort('cancelled');
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts the deadline: when it passes, the call is aborted as `timeout`. */
  startDeadline(ms: number): void {
    this.clearDeadline();
    this.deadline = setTimeout(() => this.fire(ms, 'timeout'), ms);
  }

  clearDeadline(): void {
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  /** (Re)starts the idle timer: the next stream event must come within `ms`. */
  armIdle(ms: number): void {
    this.disarmIdle();
    this.idle = setTimeout(() => this.fire(ms, 'idle'), ms);
  }

  disarmIdle(): void {
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.idle = undefined;
  }

  abort(cause: AbortCause): void {
    if (this.controller.signal.aborted) return;
    this.cause = cause;
    this.controller.abort();
  }

  /** `promise`, or a rejection as soon as the call is aborted (so a stuck SDK can never hang us). */
  race<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.aborted]);
  }

  /**
   * Stops the timers and forgets the caller's signal. With `finished` false (an error, or a
   * consumer that stopped reading) the request still in flight is cut; a finished call is left
   * alone, so success pays for no abort.
   */
  dispose(finished: boolean): void {
    this.clearDeadline();
    this.disarmIdle();
    this.caller?.removeEventListener('abort', this.onCallerAbort);
    if (!finished) this.abort('cleanup');
  }

  private fire(ms: number, cause: 'timeout' | 'idle'): void {
    this.limitMs = ms;
    this.abort(cause);
  }
}
