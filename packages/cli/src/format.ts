/**
 * Plain-text formatting shared by the commands: durations, money, token counts, aligned
 * tables and the progress line of a followed task. Pure functions, so tests pin the output.
 */

/** `75_000` → `1m15s`; under a minute `12s`; an hour and more `1h02m`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Dollars with four decimals (model calls cost fractions of a cent): `$0.0123`. */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** `12345` → `12,345`. */
export function formatTokens(tokens: number): string {
  return Math.round(tokens).toLocaleString('en-US');
}

/** What a task has spent so far, as the progress line shows it. */
export interface Spend {
  tokens: number;
  usd: number;
  /** Calls answered by the scripted provider (free, not a model). */
  scriptedCalls: number;
  /** Calls no price is known for (their cost is not in `usd`). */
  unpricedCalls: number;
}

/** The progress line: `⏱ 1m05s · 12,345 tokens · $0.0123 · state coding`. */
export function formatProgress(elapsedMs: number, spend: Spend | undefined, state: string): string {
  const parts = [`elapsed ${formatElapsed(elapsedMs)}`];
  if (spend) {
    parts.push(`${formatTokens(spend.tokens)} tokens`);
    let cost = formatUsd(spend.usd);
    if (spend.scriptedCalls > 0) cost += ` (${spend.scriptedCalls} scripted calls, free)`;
    if (spend.unpricedCalls > 0) cost += ` (+${spend.unpricedCalls} unpriced calls)`;
    parts.push(cost);
  } else {
    parts.push('usage unknown');
  }
  if (state) parts.push(`state ${state}`);
  return `progress ${parts.join(' · ')}`;
}

/** Usage totals as the gateway's task JSON carries them (`usage.total`). */
export interface UsageTotalsJson {
  calls?: number;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
  scriptedCalls?: number;
  unpricedCalls?: number;
}

/** A task's spend from its usage totals; undefined when the gateway could not say. */
export function spendOf(total: UsageTotalsJson | undefined | null): Spend | undefined {
  if (!total) return undefined;
  return {
    tokens: (total.inputTokens ?? 0) + (total.outputTokens ?? 0),
    usd: total.costUsd ?? 0,
    scriptedCalls: total.scriptedCalls ?? 0,
    unpricedCalls: total.unpricedCalls ?? 0,
  };
}

/** Lays rows out in columns (two spaces apart); the last column is not padded. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Cuts `text` to its first line and at most `max` characters (`…` marks a cut). */
export function oneLine(text: string, max: number): string {
  const first = text.split('\n')[0] ?? '';
  return first.length > max || text.includes('\n') ? `${first.slice(0, max - 1)}…` : first;
}

/** `2025-01-02T03:04:05.000Z` relative to `now`: `5s ago`, `3m ago`, `2h ago`, `4d ago`. */
export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return '-';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
