/**
 * How the viewer writes numbers and times: costs, token counts, durations and ages. Pure, so
 * the same text appears in every view and the tests pin it down.
 */

/** A cost in US dollars: `$0.0123`, `$1.23`; `—` when unknown; `unpriced` when the model has no price. */
export function formatUsd(usd: number | null | undefined, unpriced = false): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return unpriced ? 'unpriced' : '—';
  const text = usd === 0 ? '$0' : Math.abs(usd) < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
  return unpriced ? `${text} + unpriced` : text;
}

/** A token count: `950`, `12.3k`, `4.56M`. */
export function formatTokens(tokens: number | null | undefined): string {
  if (tokens === null || tokens === undefined || !Number.isFinite(tokens)) return '—';
  const abs = Math.abs(tokens);
  if (abs < 1000) return String(Math.round(tokens));
  if (abs < 1_000_000) return `${trim(tokens / 1000)}k`;
  return `${trim(tokens / 1_000_000)}M`;
}

function trim(value: number): string {
  const digits = Math.abs(value) < 10 ? 2 : Math.abs(value) < 100 ? 1 : 0;
  return value.toFixed(digits).replace(/\.?0+$/, '');
}

/** A duration: `850 ms`, `4.2 s`, `3 m 05 s`, `2 h 07 m`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1).replace(/\.0$/, '')} s`;
  const totalSeconds = Math.floor(seconds);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)} m ${String(totalSeconds % 60).padStart(2, '0')} s`;
  const minutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} m`;
}

/** How long ago an ISO time was, relative to `nowMs`: `just now`, `12 s ago`, `5 m ago`, `3 h ago`, `2 d ago`. */
export function formatAge(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '—';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '—';
  const seconds = Math.max(0, Math.floor((nowMs - at) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** A clock time with milliseconds (`14:03:07.123`), in the viewer's time zone; `—` when unknown. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
