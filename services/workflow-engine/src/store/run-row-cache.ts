/**
 * The runs this process wrote last, with the row version (`xmin`) each write left, so the next
 * step of a run can be decided without reading it first: the step's one statement is
 * conditional on the row still being that version, so a cached run that another writer (a
 * replica, the sweep, a `markFinishedPublished`) has since changed is caught by the write and
 * the step falls back to reading the row. The cache saves a round trip; it never decides
 * anything on its own authority.
 *
 * Entries hold the JSON text of the snapshot, context and visits, and every `get` parses them
 * again: the decision (XState) and the callers get objects of their own, so nothing they do can
 * change what the next step starts from.
 */
import type { CachedHistory } from './cached-history.js';
import type { RunRecord } from './run-store.js';

/** A cached run and the row version it was written as. */
export interface CachedRun {
  run: RunRecord;
  rowVersion: string;
  /** The run's whole history at that version, when known (see `cached-history.ts`). */
  history?: CachedHistory;
}

interface Entry {
  run: Omit<RunRecord, 'snapshot' | 'context' | 'visits'>;
  snapshot: string;
  context: string;
  visits: string;
  rowVersion: string;
  history?: CachedHistory;
}

/** Options of {@link RunRowCache}; defaults in {@link runRowCacheDefaults}. */
export interface RunRowCacheOptions {
  /** Runs kept (oldest written out first). 0 turns the cache off. @default 1000 */
  maxRuns?: number;
  /**
   * Characters of event JSON a run's kept history may hold; a longer history is not kept (the
   * next SendEvent reply reads it). Bounds the memory activity outputs in events could take.
   * @default 65536
   */
  maxHistorySize?: number;
}

/** The defaults of {@link RunRowCacheOptions}, in one place. */
export const runRowCacheDefaults = { maxRuns: 1000, maxHistorySize: 64 * 1024 } as const;

/** JSON text of a run's snapshot, context and visits, as written to the row. */
export interface RunJson {
  snapshot: string;
  context: string;
  visits: string;
}

/** A bounded map of run id → the run as this process last wrote it. */
export class RunRowCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxRuns: number;
  private readonly maxHistorySize: number;

  constructor(options: RunRowCacheOptions = {}) {
    this.maxRuns = options.maxRuns ?? runRowCacheDefaults.maxRuns;
    this.maxHistorySize = options.maxHistorySize ?? runRowCacheDefaults.maxHistorySize;
  }

  /** Runs cached now. */
  get size(): number {
    return this.entries.size;
  }

  /** The run as last written by this process, freshly parsed; undefined when not cached. */
  get(runId: string): CachedRun | undefined {
    const entry = this.entries.get(runId);
    if (entry === undefined) return undefined;
    return {
      run: {
        ...entry.run,
        snapshot: JSON.parse(entry.snapshot) as unknown,
        context: JSON.parse(entry.context) as RunRecord['context'],
        visits: JSON.parse(entry.visits) as RunRecord['visits'],
      },
      rowVersion: entry.rowVersion,
      ...(entry.history !== undefined ? { history: entry.history } : {}),
    };
  }

  /**
   * Remembers `run` as written with `rowVersion`, its JSON columns as `json` (the text written;
   * computed from the run when absent), and its whole `history` at that version when known
   * (dropped when over `maxHistorySize`). Finished runs are not kept: nothing steps them again.
   */
  remember(run: RunRecord, rowVersion: string, json?: RunJson, history?: CachedHistory): void {
    if (this.maxRuns === 0 || run.status !== 'running') {
      this.entries.delete(run.id);
      return;
    }
    const { snapshot, context, visits, ...rest } = run;
    const text = json ?? { snapshot: JSON.stringify(snapshot), context: JSON.stringify(context), visits: JSON.stringify(visits) };
    // Re-inserting moves the run to the newest end, so the oldest written goes first.
    this.entries.delete(run.id);
    if (this.entries.size >= this.maxRuns) this.entries.delete(this.entries.keys().next().value!);
    const kept = history !== undefined && history.size <= this.maxHistorySize ? { history } : {};
    this.entries.set(run.id, { run: rest, ...text, rowVersion, ...kept });
  }

  /** Forgets a run (its row changed in a way this process did not follow). */
  forget(runId: string): void {
    this.entries.delete(runId);
  }
}
