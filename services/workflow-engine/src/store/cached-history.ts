/**
 * A run's history as this process wrote it, kept with its run in the `RunRowCache`, so a step
 * written from the cache knows the run's whole history without reading it (SendEvent's reply
 * carries it). It is only as good as the cached row: every history row is inserted by the same
 * statement that updates its run row, so while the row is the version the cache holds, no
 * other writer has added a transition. Events are kept as JSON text and parsed on every read,
 * so nothing a caller does to what it got can change what is kept.
 */
import type { TransitionRecord } from './run-store.js';

interface KeptTransition extends Omit<TransitionRecord, 'event'> {
  event: string;
}

/** An immutable run history, transitions in seq order. */
export class CachedHistory {
  /** A run with no transitions yet (just created). */
  static readonly empty = new CachedHistory([], 0);

  private constructor(
    private readonly rows: readonly KeptTransition[],
    /** Characters of event JSON kept, to bound what the cache holds. */
    readonly size: number,
  ) {}

  /** Transitions kept. */
  get length(): number {
    return this.rows.length;
  }

  /**
   * This history after a step: unchanged without a transition, one longer with it; undefined
   * when the transition does not directly follow (its seq is not the next one), as then rows
   * were written that this copy never saw.
   */
  after(transition: TransitionRecord | undefined): CachedHistory | undefined {
    if (transition === undefined) return this;
    if (transition.seq !== this.rows.length + 1) return undefined;
    const event = JSON.stringify(transition.event);
    return new CachedHistory([...this.rows, { ...transition, event, at: new Date(transition.at.getTime()) }], this.size + event.length);
  }

  /** The transitions as records of their own (fresh objects on every call). */
  records(): TransitionRecord[] {
    return this.rows.map((row) => ({ ...row, event: JSON.parse(row.event) as TransitionRecord['event'], at: new Date(row.at.getTime()) }));
  }
}
