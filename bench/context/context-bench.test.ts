import { join, resolve } from 'node:path';
import { parseContextBenchArgs, runContextBench } from './context-bench.js';
import { loadTranscripts } from './transcripts.js';

// The shared corpus, found next to the checkout (never by an absolute path).
const WORKSPACE_ROOT = resolve(__dirname, '..', '..');
const CORPUS = join(WORKSPACE_ROOT, '..', 'shared', 'corpora', 'transcripts', 'transcripts.json');

describe('context bench', () => {
  it('reads its arguments, with the corpus next to the checkout by default and a file relative to where it was typed', () => {
    expect(parseContextBenchArgs(['--', '--json'], '/anywhere', WORKSPACE_ROOT)).toEqual({ transcripts: CORPUS, json: true, model: 'deepseek-chat', overrides: {} });
    expect(parseContextBenchArgs(['--transcripts', 'x.json', '--trigger', '9000'], '/work/here', WORKSPACE_ROOT)).toMatchObject({ transcripts: '/work/here/x.json', overrides: { triggerTokens: 9000 } });
    expect(() => parseContextBenchArgs(['--trigger', 'lots'], '/', WORKSPACE_ROOT)).toThrow('--trigger: expected a positive whole number of tokens, got "lots"');
    expect(() => parseContextBenchArgs(['--nope'], '/', WORKSPACE_ROOT)).toThrow(/unknown argument "--nope"/);
  });

  it('replays the corpus: one JSON line per transcript, then the totals, with tokens and facts counted', async () => {
    const transcripts = loadTranscripts(CORPUS);
    const lines: string[] = [];
    const totals = await runContextBench({ transcripts: CORPUS, json: true, model: 'deepseek-chat', overrides: {} }, (line) => lines.push(line));
    expect(lines).toHaveLength(transcripts.length + 1);
    const rows = lines.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>);
    rows.forEach((row, i) => {
      const transcript = transcripts[i];
      expect(row.id).toBe(transcript?.id);
      expect(row.turns).toBe(transcript?.turns);
      expect(row.factsTotal).toBe(transcript?.facts.length);
      expect(row.factsKept).toBe((row.factsTotal as number) - (row.lostFacts as string[]).length);
      expect(row.inputTokensWithout).toBeGreaterThan(0);
      expect(row.inputTokensWith).toBeGreaterThan(0);
      // Condensing never sends more than the whole history would.
      expect(row.inputTokensWith).toBeLessThanOrEqual(row.inputTokensWithout as number);
      expect(row.savedShare).toBeCloseTo(1 - (row.inputTokensWith as number) / (row.inputTokensWithout as number), 10);
      for (const share of [row.cacheableShare, (row.slidingWindow as Record<string, number>).cacheableShare]) {
        expect(share).toBeGreaterThanOrEqual(0);
        expect(share).toBeLessThanOrEqual(1);
      }
    });
    const last = JSON.parse(lines[lines.length - 1] as string) as Record<string, number>;
    expect(Object.keys(last)).toEqual(['transcripts', 'inputTokensWithout', 'inputTokensWith', 'savedShare', 'cacheableShare', 'factsKept', 'factsTotal']);
    expect(last).toEqual(JSON.parse(JSON.stringify(totals)));
    expect(last.transcripts).toBe(transcripts.length);
    expect(last.inputTokensWithout).toBe(rows.reduce((sum, row) => sum + (row.inputTokensWithout as number), 0));
    expect(last.factsTotal).toBe(transcripts.reduce((sum, t) => sum + t.facts.length, 0));
    // A transcript that never reaches the trigger is sent as it is.
    const short = rows.find((row) => row.condensations === 0);
    expect(short).toBeDefined();
    expect(short?.inputTokensWith).toBe(short?.inputTokensWithout);
    // The others are condensed: each sends less, and the default policy keeps every listed fact.
    const condensed = rows.filter((row) => (row.condensations as number) > 0);
    expect(condensed.length).toBeGreaterThan(0);
    for (const row of condensed) expect(row.inputTokensWith).toBeLessThan(row.inputTokensWithout as number);
    expect(last.savedShare).toBeGreaterThan(0);
    expect(last.factsKept).toBe(last.factsTotal);
  });

  it('prints a table for people, with the peer and the aims beside the figures', async () => {
    const lines: string[] = [];
    await runContextBench({ transcripts: CORPUS, json: false, model: 'deepseek-chat', overrides: { triggerTokens: 30_000 } }, (line) => lines.push(line));
    const text = lines.join('\n');
    expect(text).toMatch(/policy of deepseek-chat \(estimate token counts\): window 128000, trigger 30000/);
    expect(text).toMatch(/^all transcripts \(\d+\)/m);
    expect(text).toContain('peer "window": a plain sliding window');
    expect(text).toContain('aims: ≥ 50% of input tokens saved');
  });
});
