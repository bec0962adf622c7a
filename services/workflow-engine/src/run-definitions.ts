/**
 * The definitions runs execute, cached so a step costs no definition query: a stored version
 * (`name@version`) never changes, and a run stays pinned to the version it started with, so
 * both "which version does this run use" and "that version, compiled" can be remembered. Both
 * caches are bounded (oldest entry out first); a miss reads the store.
 */
import { Tenants } from '@maestro/contracts';
import { notFound } from '@maestro/runtime';
import { parseDefinition, type Registries, type RunnableDefinition } from './domain/index.js';
import type { DefinitionRecord, RunRecord, RunStore } from './store/run-store.js';

/** A run's pinned definition version, and the tenant the run belongs to. */
interface Pin {
  /** The run's own tenant. */
  tenant: string;
  /** The tenant of the definition ('' for a shared one). */
  definitionTenant: string;
  name: string;
  version: number;
}

/** What the pin cache needs of a run. */
type PinnedRun = Pick<RunRecord, 'id' | 'tenant' | 'definitionTenant' | 'definitionName' | 'definitionVersion'>;

/** Options of {@link RunDefinitions}; defaults in {@link runDefinitionsDefaults}. */
export interface RunDefinitionsOptions {
  store: Pick<RunStore, 'getDefinition' | 'getRun'>;
  registries: Registries;
  /** Compiled definition versions kept. @default 256 */
  maxDefinitions?: number;
  /** Run → version pins kept (a miss costs one read of the run). @default 10000 */
  maxRuns?: number;
}

/** The defaults of {@link RunDefinitionsOptions}, in one place. */
export const runDefinitionsDefaults = { maxDefinitions: 256, maxRuns: 10_000 } as const;

/** Looks up and caches the runnable definitions of versions and runs. */
export class RunDefinitions {
  private readonly compiled = new Map<string, RunnableDefinition>();
  private readonly pins = new Map<string, Pin>();
  private readonly maxDefinitions: number;
  private readonly maxRuns: number;

  constructor(private readonly options: RunDefinitionsOptions) {
    this.maxDefinitions = options.maxDefinitions ?? runDefinitionsDefaults.maxDefinitions;
    this.maxRuns = options.maxRuns ?? runDefinitionsDefaults.maxRuns;
  }

  /**
   * A version of a definition of `tenant` ('' when absent: shared; latest when `version` is
   * absent or 0); NOT_FOUND otherwise, the same for every tenant.
   */
  async load(name: string, version?: number, tenant: string = Tenants.shared): Promise<DefinitionRecord> {
    const record = await this.options.store.getDefinition(name, version === 0 ? undefined : version, tenant);
    if (record === undefined) throw notFound('definition', version ? `${name} version ${version}` : name, 'DEFINITION_NOT_FOUND');
    return record;
  }

  /** The stored version, compiled (and cached). */
  runnableOf(record: DefinitionRecord): RunnableDefinition {
    const key = compiledKey(record.tenant, record.name, record.version);
    let runnable = this.compiled.get(key);
    if (runnable === undefined) {
      // Stored definitions were valid when saved; re-checking catches a registry that lost a
      // name since, with a message saying which.
      runnable = { definition: parseDefinition(record.definition, this.options.registries, `definition ${key}`), registries: this.options.registries };
      remember(this.compiled, key, runnable, this.maxDefinitions);
    }
    return runnable;
  }

  /** The definition version `run` is pinned to; reads the store only when not cached. */
  async ofRun(run: PinnedRun): Promise<RunnableDefinition> {
    return this.ofPin(this.pin(run));
  }

  /** Remembers which version a run is pinned to (say, when it was just created). */
  pin(run: PinnedRun): Pin {
    const pin = { tenant: run.tenant, definitionTenant: run.definitionTenant, name: run.definitionName, version: run.definitionVersion };
    remember(this.pins, run.id, pin, this.maxRuns);
    return pin;
  }

  /** The definition the run with this id is pinned to, without reading the run when its pin is cached; undefined for an unknown run. */
  async ofRunId(runId: string): Promise<RunnableDefinition | undefined> {
    const pin = await this.pinOf(runId);
    return pin === undefined ? undefined : this.ofPin(pin);
  }

  /** The tenant the run with this id belongs to (from the pin cache when there); undefined for an unknown run. */
  async tenantOf(runId: string): Promise<string | undefined> {
    return (await this.pinOf(runId))?.tenant;
  }

  private async pinOf(runId: string): Promise<Pin | undefined> {
    const pin = this.pins.get(runId);
    if (pin !== undefined) return pin;
    const run = await this.options.store.getRun(runId);
    return run === undefined ? undefined : this.pin(run);
  }

  private async ofPin(pin: Pin): Promise<RunnableDefinition> {
    return this.compiled.get(compiledKey(pin.definitionTenant, pin.name, pin.version)) ?? this.runnableOf(await this.load(pin.name, pin.version, pin.definitionTenant));
  }
}

/** The cache key of a compiled definition version: a tenant's `coding` v1 is not the shared one. */
function compiledKey(tenant: string, name: string, version: number): string {
  return `${tenant}/${name}@${version}`;
}

/** Sets `key`, first dropping the oldest entry when the map is full. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}
