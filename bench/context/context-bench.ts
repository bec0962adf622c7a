/**
 * The context bench, as a function of its arguments: replays every transcript of a file through
 * the condenser (at the policy of `--model`, DeepSeek's by default: the corpus's runs are
 * DeepSeek's) and the sliding-window peer, and returns the lines to print: a table, or with
 * `--json` one JSON object per transcript and a last one with the totals.
 */
import { resolve } from 'node:path';
import { contextPolicyFor, type ContextPolicy } from '@maestro/agent';
import { replayTranscript, totalsOf, type ReplayResult, type ReplayTotals } from './replay.js';
import { loadTranscripts } from './transcripts.js';

/** The bench's arguments. */
export interface ContextBenchOptions {
  /** The transcripts file. */
  transcripts: string;
  /** One JSON object per line instead of a table. */
  json: boolean;
  /** The model whose context policy is used. @default 'deepseek-chat' */
  model: string;
  /** Policy overrides (`--trigger`, `--target`, `--summary`), for exploring; the default is the model's policy. */
  overrides: Partial<ContextPolicy>;
}

/** Transcripts of at least this many assistant turns are the ones the issue's aim is about. */
export const LONG_TRANSCRIPT_TURNS = 30;

/** The aims, printed beside the figures (never asserted). */
const AIMS = 'aims: ≥ 50% of input tokens saved on transcripts of ≥ 30 turns, every listed fact kept, most input cacheable';

/**
 * Reads the command line: `--transcripts <file>` (relative to `cwd`; default the shared corpus
 * next to the checkout), `--json`, `--model <name>`, and policy overrides `--trigger`,
 * `--target`, `--summary` (tokens).
 * A lone `--` (as pnpm passes it) is ignored.
 */
export function parseContextBenchArgs(argv: readonly string[], cwd: string, workspaceRoot: string): ContextBenchOptions {
  const options: ContextBenchOptions = {
    transcripts: resolve(workspaceRoot, '..', 'shared', 'corpora', 'transcripts', 'transcripts.json'),
    json: false,
    model: 'deepseek-chat',
    overrides: {},
  };
  const value = (i: number, flag: string): string => {
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) throw new Error(`${flag}: expected a value`);
    return next;
  };
  const tokens = (i: number, flag: string): number => {
    const n = Number(value(i, flag));
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive whole number of tokens, got "${argv[i + 1]}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    if (arg === '--json') options.json = true;
    else if (arg === '--transcripts') options.transcripts = resolve(cwd, value(i++, arg));
    else if (arg === '--model') options.model = value(i++, arg);
    else if (arg === '--trigger') options.overrides.triggerTokens = tokens(i++, arg);
    else if (arg === '--target') options.overrides.targetTokens = tokens(i++, arg);
    else if (arg === '--summary') options.overrides.summaryTokens = tokens(i++, arg);
    else throw new Error(`unknown argument ${JSON.stringify(arg)} (known: --transcripts <file>, --json, --model <name>, --trigger <tokens>, --target <tokens>, --summary <tokens>)`);
  }
  return options;
}

const pct = (share: number): string => `${(share * 100).toFixed(1)}%`;
const k = (tokens: number): string => `${(tokens / 1000).toFixed(1)}k`;

/** The JSON object printed for one transcript. */
function jsonLine(result: ReplayResult): string {
  return JSON.stringify(result);
}

/** The totals line: exactly the fields the issue names. */
function totalsLine(totals: ReplayTotals): string {
  const { transcripts, inputTokensWithout, inputTokensWith, savedShare, cacheableShare, factsKept, factsTotal } = totals;
  return JSON.stringify({ transcripts, inputTokensWithout, inputTokensWith, savedShare, cacheableShare, factsKept, factsTotal });
}

/** The peer's totals over `results`. */
function peerTotals(results: readonly ReplayResult[]): { sent: number; saved: number; cacheable: number; facts: number } {
  const without = results.reduce((sum, r) => sum + r.inputTokensWithout, 0);
  const sent = results.reduce((sum, r) => sum + r.slidingWindow.inputTokens, 0);
  const cached = results.reduce((sum, r) => sum + r.slidingWindow.cacheableShare * r.slidingWindow.inputTokens, 0);
  return { sent, saved: without === 0 ? 0 : 1 - sent / without, cacheable: sent === 0 ? 0 : cached / sent, facts: results.reduce((sum, r) => sum + r.slidingWindow.factsKept, 0) };
}

function tableRow(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
}

/** The table for people. */
function table(results: readonly ReplayResult[], options: ContextBenchOptions, policy: ContextPolicy, counting: string): string[] {
  const widths = [44, 5, 9, 8, 7, 7, 6, 4, 8, 7, 6];
  const header = ['transcript', 'turns', 'without', 'with', 'saved', 'cache', 'facts', 'cond', 'window', 'w.cache', 'w.facts'];
  const lines = [
    `context bench: ${results.length} transcripts from ${options.transcripts}`,
    `policy of ${options.model} (${counting} token counts): window ${policy.windowTokens}, trigger ${policy.triggerTokens}, target ${policy.targetTokens}, ` +
      `summary ${policy.summaryTokens}, keep last ${policy.keepRecentObservations} results whole, cut older ones to ${policy.maxObservationTokens} tokens; summaries by rule`,
    'input tokens over the run; saved = 1 − with/without; cache = share of tokens that repeat the previous request\'s prefix; facts = listed facts in the last request',
    'peer "window": a plain sliding window (system + task + the last messages that fit the same target)',
    '',
    tableRow(header, widths),
  ];
  for (const r of results) {
    const name = r.id.length > 44 ? `…${r.id.slice(r.id.length - 43)}` : r.id;
    lines.push(
      tableRow(
        [name, String(r.turns), k(r.inputTokensWithout), k(r.inputTokensWith), pct(r.savedShare), pct(r.cacheableShare), `${r.factsKept}/${r.factsTotal}`, String(r.condensations), pct(r.slidingWindow.savedShare), pct(r.slidingWindow.cacheableShare), `${r.slidingWindow.factsKept}/${r.factsTotal}`],
        widths,
      ),
    );
  }
  const groups: Array<[string, ReplayResult[]]> = [
    ['all transcripts', [...results]],
    [`transcripts of ≥ ${LONG_TRANSCRIPT_TURNS} turns`, results.filter((r) => r.turns >= LONG_TRANSCRIPT_TURNS)],
    [`transcripts of < ${LONG_TRANSCRIPT_TURNS} turns`, results.filter((r) => r.turns < LONG_TRANSCRIPT_TURNS)],
  ];
  lines.push('');
  for (const [label, group] of groups) {
    if (group.length === 0) continue;
    const t = totalsOf(group);
    const peer = peerTotals(group);
    const cond = group.reduce((sum, r) => sum + r.condensations, 0);
    lines.push(tableRow([`${label} (${group.length})`, '', k(t.inputTokensWithout), k(t.inputTokensWith), pct(t.savedShare), pct(t.cacheableShare), `${t.factsKept}/${t.factsTotal}`, String(cond), pct(peer.saved), pct(peer.cacheable), `${peer.facts}/${t.factsTotal}`], widths));
  }
  const long = results.filter((r) => r.turns >= LONG_TRANSCRIPT_TURNS);
  const worst = [...long].sort((a, b) => a.savedShare - b.savedShare)[0];
  lines.push('', AIMS);
  if (worst !== undefined) lines.push(`least saved among ≥ ${LONG_TRANSCRIPT_TURNS} turns: ${worst.id} (${pct(worst.savedShare)})`);
  const rejected = results.reduce((sum, r) => sum + r.rejectedCondensations, 0);
  lines.push(`condensations rejected by the pinned-facts check and rebuilt: ${rejected}`);
  const lost = results.filter((r) => r.lostFacts.length > 0);
  if (lost.length === 0) lines.push('every listed fact is in the last request of every transcript');
  for (const r of lost) lines.push(`lost in ${r.id}:`, ...r.lostFacts.map((fact) => `  - ${fact.length > 150 ? `${fact.slice(0, 149)}…` : fact}`));
  return lines;
}

/** Runs the bench; calls `print` with each line as it is ready. */
export async function runContextBench(options: ContextBenchOptions, print: (line: string) => void): Promise<ReplayTotals> {
  const { policy, counting, tokenCounter } = contextPolicyFor(options.model, options.overrides);
  const transcripts = loadTranscripts(options.transcripts);
  const results: ReplayResult[] = [];
  for (const transcript of transcripts) {
    const result = await replayTranscript(transcript, { policy, counting, tokenCounter });
    results.push(result);
    if (options.json) print(jsonLine(result));
  }
  const totals = totalsOf(results);
  if (options.json) print(totalsLine(totals));
  else table(results, options, policy, counting).forEach(print);
  return totals;
}
