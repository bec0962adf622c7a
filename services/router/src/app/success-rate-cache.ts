/**
 * Measured success rates for routing, read from the usage ledger at most once per TTL, so a
 * routing decision costs a map lookup rather than a query. A failed refresh keeps the last
 * figures (or none), logged, and never fails a call.
 */
import type { Clock, Logger } from '@maestro/runtime';
import type { SuccessRate, SuccessRates } from '../domain/routing.js';
import type { Phase } from '../domain/routing-policy.js';
import type { UsageLedger } from '../store/usage-ledger.js';

/** See the module comment. */
export class SuccessRateCache {
  private rates = new Map<string, SuccessRate>();
  private readAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly ledger: Pick<UsageLedger, 'modelStats'>,
    private readonly options: { clock: Clock; ttlMs: number; logger: Logger },
  ) {}

  /** The rates, refreshed first when older than the TTL. */
  async snapshot(): Promise<SuccessRates> {
    if (this.options.clock.now() - this.readAt >= this.options.ttlMs) {
      this.refreshing ??= this.refresh().finally(() => {
        this.refreshing = undefined;
      });
      await this.refreshing;
    }
    const rates = this.rates;
    return (spec: string, phase: Phase) => rates.get(`${spec}\0${phase}`);
  }

  private async refresh(): Promise<void> {
    try {
      const stats = await this.ledger.modelStats();
      this.rates = new Map(stats.map((s) => [`${s.spec}\0${s.phase}`, { verdicts: s.verdicts, successes: s.successes }]));
      this.readAt = this.options.clock.now();
    } catch (err) {
      this.options.logger.warn('success rates could not be read; routing uses the last known figures', { err });
      this.readAt = this.options.clock.now();
    }
  }
}
