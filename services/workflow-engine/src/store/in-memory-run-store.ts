/**
 * The {@link RunStore} in process memory, for tests and the embedded mode: the same behaviour
 * as PostgreSQL (the contract suite runs against both), without durability. Every read and
 * write copies the records, so callers can no more change what is stored than they could a
 * database row. A step needs no lock: `decide` runs and its result is written without yielding
 * to the event loop, so no other step can interleave.
 */
import { Tenants } from '@maestro/contracts';
import { systemClock, UnexpectedError, type Clock } from '@maestro/runtime';
import { isFinished } from '../domain/index.js';
import type { ApplyOutcome, DefinitionRecord, HistoryPage, ListRunsQuery, NewRun, RunDecision, RunRecord, RunStore, TransitionRecord } from './run-store.js';

/** Options of {@link InMemoryRunStore}. */
export interface InMemoryRunStoreOptions {
  /** Stamps `createdAt` / `updatedAt` and measures `listFinishedUnpublished`'s window. @default systemClock */
  clock?: Clock;
}

/** Newest first: `createdAt` descending, then `id` descending (the order ListRuns pages in). */
function newestFirst(a: RunRecord, b: RunRecord): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** The map key of a (tenant, name) definition; a name never holds a NUL. */
function definitionKey(tenant: string, name: string): string {
  return `${tenant}\u0000${name}`;
}

/** Code-point order, as PostgreSQL's C collation and `Array.prototype.sort` have it. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Definitions and runs in maps; nothing survives the process. */
export class InMemoryRunStore implements RunStore {
  private readonly clock: Clock;
  private readonly definitions = new Map<string, DefinitionRecord[]>();
  private readonly runs = new Map<string, RunRecord>();
  private readonly history = new Map<string, TransitionRecord[]>();

  constructor(options: InMemoryRunStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  async saveDefinition(name: string, definition: Record<string, unknown>, hash: string, tenant: string = Tenants.shared): Promise<{ definition: DefinitionRecord; created: boolean }> {
    const key = definitionKey(tenant, name);
    const versions = this.definitions.get(key) ?? [];
    const latest = versions[versions.length - 1];
    if (latest !== undefined && latest.hash === hash) return { definition: structuredClone(latest), created: false };
    const record: DefinitionRecord = { tenant, name, version: (latest?.version ?? 0) + 1, definition: structuredClone(definition), hash, createdAt: this.now() };
    versions.push(record);
    this.definitions.set(key, versions);
    return { definition: structuredClone(record), created: true };
  }

  async getDefinition(name: string, version?: number, tenant: string = Tenants.shared): Promise<DefinitionRecord | undefined> {
    const versions = this.definitions.get(definitionKey(tenant, name)) ?? [];
    const found = version === undefined ? versions[versions.length - 1] : versions.find((d) => d.version === version);
    return found === undefined ? undefined : structuredClone(found);
  }

  async listDefinitions(tenants?: readonly string[]): Promise<DefinitionRecord[]> {
    return [...this.definitions.values()]
      .map((versions) => versions.at(-1)!)
      .filter((d) => tenants === undefined || tenants.includes(d.tenant))
      .sort((a, b) => compareText(a.name, b.name) || compareText(a.tenant, b.tenant))
      .map((d) => structuredClone(d));
  }

  async listDefinitionVersions(name: string, tenant: string = Tenants.shared): Promise<DefinitionRecord[]> {
    return [...(this.definitions.get(definitionKey(tenant, name)) ?? [])].reverse().map((d) => structuredClone(d));
  }

  async createRun(run: NewRun): Promise<{ run: RunRecord; created: boolean }> {
    const tenant = run.tenant ?? Tenants.default;
    const definitionTenant = run.definitionTenant ?? Tenants.shared;
    if (run.idempotencyKey !== undefined) {
      const existing = [...this.runs.values()].find((r) => r.tenant === tenant && r.idempotencyKey === run.idempotencyKey);
      if (existing !== undefined) return { run: structuredClone(existing), created: false };
    }
    if (this.runs.has(run.id)) throw new UnexpectedError('RUN_ID_TAKEN', `run ${run.id} exists already`);
    if (!this.definitions.get(definitionKey(definitionTenant, run.definitionName))?.some((d) => d.version === run.definitionVersion)) {
      // PostgreSQL's foreign key says the same.
      throw new UnexpectedError('RUN_DEFINITION_MISSING', `definition ${run.definitionName} version ${run.definitionVersion} does not exist`);
    }
    const now = this.now();
    const record: RunRecord = {
      id: run.id,
      tenant,
      definitionTenant,
      definitionName: run.definitionName,
      definitionVersion: run.definitionVersion,
      status: run.status,
      state: run.state,
      attempt: run.attempt,
      visits: structuredClone(run.visits),
      snapshot: structuredClone(run.snapshot),
      context: structuredClone(run.context),
      idempotencyKey: run.idempotencyKey ?? null,
      createdAt: now,
      updatedAt: now,
      timeoutAt: run.timeoutAt ?? null,
      finishedPublished: false,
      traceParent: run.traceParent ?? null,
    };
    this.runs.set(run.id, record);
    this.history.set(run.id, []);
    return { run: structuredClone(record), created: true };
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const run = this.runs.get(id);
    return run === undefined ? undefined : structuredClone(run);
  }

  async listRuns(query: ListRunsQuery): Promise<RunRecord[]> {
    let cursor: RunRecord | undefined;
    if (query.afterId !== undefined) {
      cursor = this.runs.get(query.afterId);
      if (cursor === undefined) return [];
    }
    return [...this.runs.values()]
      .filter(
        (r) =>
          (query.tenant === undefined || r.tenant === query.tenant) &&
          (query.status === undefined || r.status === query.status) &&
          (query.definitionName === undefined || r.definitionName === query.definitionName) &&
          (query.definitionVersion === undefined || r.definitionVersion === query.definitionVersion) &&
          (cursor === undefined || newestFirst(cursor, r) < 0),
      )
      .sort(newestFirst)
      .slice(0, query.limit)
      .map((r) => structuredClone(r));
  }

  async countRunning(cap: number): Promise<number> {
    let count = 0;
    for (const run of this.runs.values()) if (run.status === 'running' && ++count >= cap) break;
    return count;
  }

  async listRunning(afterId: string | undefined, limit: number): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .filter((r) => r.status === 'running' && (afterId === undefined || r.id > afterId))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async getHistory(runId: string, page: HistoryPage = {}): Promise<TransitionRecord[]> {
    const afterSeq = page.afterSeq ?? 0;
    const rows = (this.history.get(runId) ?? []).filter((t) => t.seq > afterSeq);
    return (page.limit === undefined ? rows : rows.slice(0, page.limit)).map((t) => structuredClone(t));
  }

  async applyToRun(runId: string, decide: (run: RunRecord) => RunDecision): Promise<ApplyOutcome | undefined> {
    const run = this.runs.get(runId);
    return run === undefined ? undefined : this.decideAndWrite(run, decide);
  }

  async listTimedOut(now: Date, limit: number): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .filter((r) => this.isDue(r, now))
      .sort((a, b) => a.timeoutAt!.getTime() - b.timeoutAt!.getTime())
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async applyToTimedOutRun(runId: string, now: Date, decide: (run: RunRecord) => RunDecision): Promise<ApplyOutcome | undefined> {
    const run = this.runs.get(runId);
    // Nothing is ever locked here: the re-check under the "lock" is all that remains.
    return run === undefined || !this.isDue(run, now) ? undefined : this.decideAndWrite(run, decide);
  }

  async postponeTimeout(runId: string, now: Date, until: Date): Promise<boolean> {
    const run = this.runs.get(runId);
    if (run === undefined || !this.isDue(run, now)) return false;
    run.timeoutAt = new Date(until.getTime());
    return true;
  }

  async markFinishedPublished(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (run !== undefined && isFinished(run.status)) run.finishedPublished = true;
  }

  async listFinishedUnpublished(withinMs: number, afterId: string | undefined, limit: number): Promise<RunRecord[]> {
    const since = this.clock.now() - withinMs;
    return [...this.runs.values()]
      .filter((r) => !r.finishedPublished && isFinished(r.status) && r.updatedAt.getTime() >= since && (afterId === undefined || r.id > afterId))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  /** How many runs are stored (for tests). */
  get size(): number {
    return this.runs.size;
  }

  private isDue(run: RunRecord, now: Date): boolean {
    return run.status === 'running' && run.timeoutAt !== null && run.timeoutAt.getTime() <= now.getTime();
  }

  /** Lets `decide` judge a copy of the run and writes what it decided, without yielding in between. */
  private decideAndWrite(run: RunRecord, decide: (run: RunRecord) => RunDecision): ApplyOutcome {
    // JSON, not structuredClone: `decide` sees what PostgreSQL's jsonb would give back.
    const decision = decide({ ...structuredClone(run), snapshot: JSON.parse(JSON.stringify(run.snapshot)) as unknown });
    if (decision.kind === 'ignore') {
      if (decision.clearTimeout === true && run.timeoutAt !== null) run.timeoutAt = null;
      return { applied: false, run: structuredClone(run), reason: decision.reason };
    }
    const { position } = decision;
    const wasRunning = run.status === 'running';
    run.status = position.status;
    run.state = position.state;
    run.attempt = position.attempt;
    run.visits = structuredClone(position.visits);
    run.snapshot = JSON.parse(JSON.stringify(position.snapshot)) as unknown;
    run.context = JSON.parse(JSON.stringify(position.context)) as RunRecord['context'];
    run.updatedAt = this.now();
    if (wasRunning && isFinished(position.status)) run.finishedPublished = false;
    if (decision.timeoutAt !== undefined) run.timeoutAt = decision.timeoutAt === null ? null : new Date(decision.timeoutAt.getTime());
    let transition: TransitionRecord | undefined;
    if (decision.transition !== undefined) {
      const rows = this.history.get(run.id)!;
      transition = { runId: run.id, seq: rows.length + 1, ...structuredClone(decision.transition), at: this.now() };
      rows.push(transition);
    }
    return { applied: true, run: structuredClone(run), transition: transition === undefined ? undefined : structuredClone(transition) };
  }
}
