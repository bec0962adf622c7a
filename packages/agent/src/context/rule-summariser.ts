/**
 * The summary of older turns by rule, with no model: per turn, the action (tool and short
 * arguments, the command it ran, the first lines of code it wrote) and the gist of its result
 * (exit status, first line, error lines, last line; more of it for runs of programs and tests,
 * whose output is a finding); prose and reasoning dropped. Free and deterministic, so it
 * summarises the whole past again at each condensation (it ignores `previous`). It fits its
 * budget by making turns terser in order of what the next step needs least: first the turns
 * that only looked around (reads, searches, listings), oldest first, to one line each, then to
 * a word each (runs of them share one line: `- looked around: grep, cat, find`); then the older
 * turns to one line each, oldest first, while the latest keep up to half the budget in full
 * detail; then the oldest are left out with a count. What the agent's own runs printed (its
 * findings) so outlasts where it looked. Detail fades with age: what happened last matters
 * most to the next step.
 */
import { o200kCounter, type ChatMessage, type TokenCounter } from '@maestro/llm';
import type { SummariseOptions, Summariser } from './context-types.js';
import { callCommand, shellWords } from './file-operations.js';
import { digestTurn, turnKind, type DigestLevel, type TurnKind } from './turn-digest.js';
import { turnsOf } from './turns.js';

/** Options of {@link RuleSummariser}. */
export interface RuleSummariserOptions {
  /** Counts the summary against `maxTokens`. @default o200kCounter */
  tokenCounter?: TokenCounter;
}

/** Share of the budget the latest turns may keep in full detail while older ones are shortened. */
const DETAIL_SHARE = 0.5;

/** One turn of the summary at its current level of detail. */
interface Entry {
  messages: ChatMessage[];
  kind: TurnKind;
  level: DigestLevel;
  text: string;
  tokens: number;
  /** A looking turn folded into a shared `- looked around: …` line, as the word(s) it adds there. */
  looked?: string;
}

/** The opening of the line that folded looking turns share. */
const LOOKED_AROUND = '- looked around: ';

/** A looking turn in a word or two: the programs or tools it called (`grep`, `cat`, `fs.read`). */
function lookWords(messages: readonly ChatMessage[]): string {
  const calls = messages[0]?.toolCalls ?? [];
  return calls
    .map((call) => {
      const command = callCommand(call);
      return command === undefined ? call.name : (shellWords(command)[0]?.[0] ?? call.name).replace(/^.*\//, '');
    })
    .join(', ');
}

/** A {@link Summariser} by rule (see the module comment). */
export class RuleSummariser implements Summariser {
  readonly by = 'rule' as const;
  private readonly counter: TokenCounter;

  constructor(options: RuleSummariserOptions = {}) {
    this.counter = options.tokenCounter ?? o200kCounter;
  }

  summarise(messages: readonly ChatMessage[], options: SummariseOptions): Promise<{ text: string }> {
    return Promise.resolve({ text: this.summariseNow(messages, options.maxTokens ?? Number.POSITIVE_INFINITY) });
  }

  /** The summary, synchronously (the rule needs no I/O). */
  summariseNow(messages: readonly ChatMessage[], maxTokens: number): string {
    const entries = turnsOf(messages).map((turn) => this.entry(messages.slice(turn.start, turn.end), 2));
    let total = entries.reduce((sum, entry) => sum + entry.tokens, 0);
    // Terser, in order: the turns that only looked around, oldest first; then the older turns
    // (all but the latest, which keep up to half the budget in detail), oldest first; then the
    // oldest of those are left out; only then do the latest lose detail, and go.
    let latest = entries.length;
    for (let used = 0; latest > 0 && used + (entries[latest - 1] as Entry).tokens <= maxTokens * DETAIL_SHARE; latest--) used += (entries[latest - 1] as Entry).tokens;
    const terser = (level: DigestLevel, applies: (entry: Entry, i: number) => boolean): void => {
      for (let i = 0; i < entries.length && total > maxTokens; i++) {
        const entry = entries[i] as Entry;
        if (entry.level <= level || entry.looked !== undefined || !applies(entry, i)) continue;
        const shorter = this.entry(entry.messages, level);
        total += shorter.tokens - entry.tokens;
        entries[i] = shorter;
      }
    };
    terser(0, (entry) => entry.kind === 'look');
    for (let i = 0; i < entries.length && total > maxTokens; i++) {
      const entry = entries[i] as Entry;
      if (entry.kind !== 'look' || entry.looked !== undefined) continue;
      const looked = lookWords(entry.messages);
      const joins = entries[i - 1]?.looked !== undefined;
      const tokens = this.counter.countTokens(joins ? `, ${looked}` : `${LOOKED_AROUND}${looked}`) + (joins ? 0 : 1);
      total += tokens - entry.tokens;
      entries[i] = { ...entry, looked, tokens };
    }
    terser(0, (_, i) => i < latest);
    let omitted = 0;
    while (total > maxTokens && omitted < latest) total -= (entries[omitted++] as Entry).tokens;
    terser(0, (_, i) => i >= omitted);
    // Then leave the oldest out, until the text itself (with the line saying so) fits.
    const render = (count: number): string => {
      const left = entries.slice(0, count).reduce((sum, entry) => sum + entry.messages.length, 0);
      const lines: string[] = count > 0 ? [`- (${left} earlier messages left out)`] : [];
      entries.slice(count).forEach((entry, k) => {
        if (entry.looked === undefined) lines.push(entry.text);
        else if (k > 0 && entries[count + k - 1]?.looked !== undefined) lines[lines.length - 1] += `, ${entry.looked}`;
        else lines.push(`${LOOKED_AROUND}${entry.looked}`);
      });
      return lines.join('\n');
    };
    while (total > maxTokens && omitted < entries.length - 1) total -= (entries[omitted++] as Entry).tokens;
    let text = render(omitted);
    while (omitted < entries.length - 1 && this.counter.countTokens(text) > maxTokens) text = render(++omitted);
    return text;
  }

  private entry(messages: ChatMessage[], level: DigestLevel): Entry {
    const text = digestTurn(messages, level);
    return { messages, kind: turnKind(messages), level, text, tokens: this.counter.countTokens(text) + 1 };
  }
}
