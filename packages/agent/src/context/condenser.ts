/**
 * The condenser: each turn, the request to send, derived from the loop's full history so it
 * stays inside the model's budget without forgetting what matters.
 *
 * The request is always
 *   system prompt · task · [summary of older turns · pinned facts] · kept turns · newer turns
 * with the system prompt and the task verbatim. Roles alternate as in the history (some
 * providers, deepseek-reasoner among them, refuse two user messages in a row): the summary is
 * an assistant message (the agent's account of its own earlier turns), the pinned facts a user
 * message, and the kept turns start at an assistant message. Every reply is sent without the
 * fenced blocks of its text that repeat its tool calls' commands word for word (some agents
 * write each command twice; the call keeps it), the same bytes every turn. Until the request
 * passes the policy's trigger it is otherwise the history as it is. When it does, a condensation
 * folds the older turns into a summary (by rule, or by the tactical model) and keeps as many
 * recent turns as fit the target: the last `keepRecentObservations` tool results whole, older
 * kept ones longer than `maxObservationTokens` cut to head and tail with a `[… N lines cut …]`
 * marker, and file reads superseded by a later read or write of the same file replaced by a
 * one-line note. A turn is kept or folded whole, so a tool result never loses its call nor a
 * call its results. A condensation that would not save half the trigger–target gap (the recent
 * results are most of the request) is not made: it would break the cache for little.
 *
 * Condensations come in chunks: the condensed prefix is kept, byte for byte, until the next one,
 * and the turns after it are appended as they come, so a provider's prefix cache keeps hitting.
 * The next condensation comes once the request has grown by the gap between trigger and target
 * again, counted from where it settles once its recent results have aged (or passes the usable
 * window, or the provider said the context was too long).
 *
 * Every condensation is checked: each pinned fact must be in the request word for word. The
 * first build lists in its pinned block only the facts it folded away (the rest are in the task
 * or the kept turns); if a fact is missing after all (a cut observation held it), that build is
 * rejected and a safer one lists the missing facts too; `rejected` says what was lost. Between
 * condensations the same check runs on every request, so a fact pinned from outside is in
 * every request (in a history never condensed, a short assistant note and the pinned block are
 * put right after the task for it).
 */
import { condensedTurnsNote, o200kCounter, type ChatMessage, type TokenCounter, type ToolSpec, type Usage } from '@maestro/llm';
import type { Condensation } from '@maestro/contracts';
import type { ContextPolicy, ContextView, PinnedFact, Summariser, TokenCounting } from './context-types.js';
import { MessageAgeing } from './message-ageing.js';
import { MessageTokens } from './message-tokens.js';
import { ObservationCuts } from './observation-cuts.js';
import type { PinnedFacts } from './pinned-facts.js';
import { renderPinnedFacts } from './pinned-facts-message.js';
import { missingFacts, requestText } from './request-text.js';
import { RuleSummariser } from './rule-summariser.js';
import { turnsOf, type Turn } from './turns.js';

/** Options of {@link Condenser}. */
export interface CondenserOptions {
  policy: ContextPolicy;
  /** How `tokenCounter` counts for this model (reported on each condensation). @default 'estimate' */
  counting?: TokenCounting;
  /** @default o200kCounter */
  tokenCounter?: TokenCounter;
  /** Writes the summary of older turns. A model summariser that fails falls back to the rule. @default a RuleSummariser */
  summariser?: Summariser;
}

/** Options of one {@link Condenser.view}. */
export interface ViewOptions {
  /** The tools offered with the request (they count against the budget). @default [] */
  tools?: readonly ToolSpec[];
  signal?: AbortSignal;
  /** Condense now, harder (half the target), because the provider refused the request as too long. */
  force?: 'context_too_long';
}

/** The head of a history: its leading system messages and the task (the first user message). */
interface Head {
  indices: number[];
  /** Index of the task message, when there is one. */
  taskIndex: number | undefined;
}

/**
 * How the request is derived from the history, kept until the next condensation: the frame,
 * then `history[keptFrom..)`, aged before `agedBefore` and as sent whole from there.
 */
interface Condensed {
  /** What comes before the kept turns: the head, and once condensed (or pinned) the summary (or a note) and the pinned facts. */
  frame: ChatMessage[];
  /** Index of the task in the history (undefined: none yet), to tell a history whose head changed. */
  taskIndex: number | undefined;
  /** Messages of `history[keptFrom..agedBefore)` are sent aged (see {@link MessageAgeing}). */
  agedBefore: number;
  /** The superseded-read notes of the condensation, by tool call id. */
  notes: ReadonlyMap<string, string>;
  /** The history's length when this was made. */
  coveredUpTo: number;
  /** `history[coveredUpTo - 1]`, to tell that a later history continues this one. */
  lastCovered: ChatMessage | undefined;
  /** History indices summarised, and the summary's text (for a model summariser's `previous`). */
  summarised: number[];
  summary: string | undefined;
  /** The first history index kept verbatim (after the summary). */
  keptFrom: number;
  /** Position of the pinned-facts message in `frame` (−1: none yet), and the facts it lists. */
  pinnedAt: number;
  pinnedListed: PinnedFact[];
  /** Request tokens right after the condensation (tools included); 0 when only pinned facts were added to a history never condensed. */
  tokensAfter: number;
  /** The same once its recent outputs have aged too: where the request settles when they age. */
  settledTokens: number;
  /** False when no condensation was made (the history is sent as it is, perhaps with a pinned-facts message after the task). */
  condensed: boolean;
}

/** The summary of older turns, as the agent's own account of them (an assistant message: roles keep alternating). */
function summaryMessage(summary: string, messages: number, turns: number, by: Condensation['summarisedBy']): ChatMessage {
  const how = by === 'model' ? 'by a model' : 'by rule: actions and the gist of their results';
  return {
    role: 'assistant',
    // The note's opening says how many assistant turns this stands for (stateless replayers count them).
    content: `${condensedTurnsNote(turns)}: ${messages} earlier messages are summarised here (${how}); the facts pinned so far come next, then the latest turns verbatim.]${summary !== '' ? `\n${summary}` : ''}`,
  };
}

/** A condensation is made only if it saves at least this share of the trigger–target gap (the room new turns get). */
const MIN_SAVING_SHARE_OF_GAP = 0.5;

/** In a history never condensed, what stands before a pinned block put after the task (so roles keep alternating). */
const PINNED_ONLY_NOTE: ChatMessage = { role: 'assistant', content: `${condensedTurnsNote(0)}; the facts pinned so far come next and the conversation continues verbatim after them.]` };

/** Pinned facts a build lost, for `rejected`: how many, which (each cut to 80 characters), and what was done. */
function describeLost(facts: readonly PinnedFact[]): string {
  const which = facts.map((fact) => `${fact.kind}: "${fact.text.slice(0, 80)}"`).join('; ');
  return `${facts.length} pinned fact${facts.length === 1 ? '' : 's'} (${which}); they were added to the pinned block`;
}

/** The pinned-facts message (a user message, like the task). */
function pinnedMessage(facts: readonly PinnedFact[]): ChatMessage {
  return { role: 'user', content: renderPinnedFacts(facts) };
}

/** Whether two messages are the same message (identity, or equal role, content and call). */
function sameMessage(a: ChatMessage | undefined, b: ChatMessage | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.role === b.role && a.content === b.content && a.toolCallId === b.toolCallId && JSON.stringify(a.toolCalls ?? []) === JSON.stringify(b.toolCalls ?? []);
}

/** The leading system messages and the first user message of `history`. */
function headOf(history: readonly ChatMessage[]): Head {
  const indices: number[] = [];
  let i = 0;
  while (i < history.length && history[i]?.role === 'system') indices.push(i++);
  const taskIndex = history.findIndex((message) => message.role === 'user');
  if (taskIndex >= 0) indices.push(taskIndex);
  return { indices, taskIndex: taskIndex >= 0 ? taskIndex : undefined };
}

/** Keeps each request inside the policy's budget (see the module comment). One condenser per agent run. */
export class Condenser {
  private readonly policy: ContextPolicy;
  private readonly counting: TokenCounting;
  private readonly counter: TokenCounter;
  private readonly tokens: MessageTokens;
  private readonly summariser: Summariser;
  private readonly ruleSummariser: RuleSummariser;
  private readonly ageing: MessageAgeing;
  private condensed: Condensed | undefined;

  constructor(options: CondenserOptions) {
    this.policy = options.policy;
    this.counting = options.counting ?? 'estimate';
    this.counter = options.tokenCounter ?? o200kCounter;
    this.tokens = new MessageTokens(this.counter);
    this.ruleSummariser = new RuleSummariser({ tokenCounter: this.counter });
    this.summariser = options.summariser ?? this.ruleSummariser;
    this.ageing = new MessageAgeing(this.policy, this.tokens, this.counter);
  }

  /**
   * The request for this turn, from the full `history` (which the caller keeps whole and only
   * appends to). `facts` is brought up to date with the history first. `condensation` is set
   * only on the turn a new condensation was made.
   */
  async view(history: readonly ChatMessage[], facts: PinnedFacts, options: ViewOptions = {}): Promise<ContextView> {
    facts.update(history);
    const toolTokens = options.tools !== undefined && options.tools.length > 0 ? this.counter.countToolTokens(options.tools) : 0;
    if (this.condensed !== undefined && !this.continues(this.condensed, history)) this.condensed = undefined;
    this.condensed ??= this.uncondensed(history);
    let messages = this.requestFor(history);
    const tokens = this.tokens.total(messages) + toolTokens;
    if (options.force !== undefined || tokens > this.nextTrigger()) {
      const condensed = await this.condense(history, facts, { toolTokens, tokensBefore: tokens, force: options.force !== undefined, ...(options.signal ? { signal: options.signal } : {}) });
      if (condensed !== undefined) return condensed;
    }
    const missing = missingFacts(messages, facts.list());
    if (missing.length === 0) return { messages, tokens };
    this.pinMissing(this.condensed, missing);
    messages = this.requestFor(history);
    return { messages, tokens: this.tokens.total(messages) + toolTokens };
  }

  /** The state of a history never condensed: its head, then the rest as it is. */
  private uncondensed(history: readonly ChatMessage[]): Condensed {
    const head = headOf(history);
    const bodyFrom = head.taskIndex !== undefined ? head.taskIndex + 1 : head.indices.length;
    return {
      frame: history.slice(0, bodyFrom),
      taskIndex: head.taskIndex,
      agedBefore: bodyFrom,
      notes: new Map(),
      coveredUpTo: bodyFrom,
      lastCovered: history[bodyFrom - 1],
      summarised: [],
      summary: undefined,
      keptFrom: bodyFrom,
      pinnedAt: -1,
      pinnedListed: [],
      tokensAfter: 0,
      settledTokens: 0,
      condensed: false,
    };
  }

  /** The request size past which the next condensation is made. */
  private nextTrigger(): number {
    const { triggerTokens, targetTokens, windowTokens, reserveOutputTokens } = this.policy;
    if (this.condensed === undefined || !this.condensed.condensed) return triggerTokens;
    // Grow by the trigger–target gap again before condensing, so a request that could not be
    // brought below the trigger is not condensed (and its cache broken) on every turn. The gap is
    // counted from where the request settles once its recent results have aged (they will be cut
    // at the next condensation anyway): counted from its size right after, a condensation held
    // up by a few long recent outputs would let every later turn grow that much larger.
    return Math.min(windowTokens - reserveOutputTokens, Math.max(triggerTokens, this.condensed.settledTokens + (triggerTokens - targetTokens)));
  }

  private continues(condensed: Condensed, history: readonly ChatMessage[]): boolean {
    return (
      history.length >= condensed.coveredUpTo &&
      sameMessage(history[condensed.coveredUpTo - 1], condensed.lastCovered) &&
      (condensed.condensed || condensed.taskIndex === headOf(history).taskIndex)
    );
  }

  /** The request for `history`: the frame, then the history from `keptFrom`, aged before `agedBefore`. */
  private requestFor(history: readonly ChatMessage[]): ChatMessage[] {
    const condensed = this.condensed;
    if (condensed === undefined) return [...history];
    const { keptFrom, agedBefore, notes } = condensed;
    const rest = history.slice(keptFrom).map((message, k) => (keptFrom + k < agedBefore ? this.ageing.aged(message, message.toolCallId !== undefined ? notes.get(message.toolCallId) : undefined) : this.ageing.sent(message)));
    return [...condensed.frame, ...rest];
  }

  /** Adds facts missing from the request to its pinned block (in a history never condensed, a note and the block go right after the task). */
  private pinMissing(condensed: Condensed, missing: readonly PinnedFact[]): void {
    if (condensed.pinnedAt < 0) {
      condensed.frame = [...condensed.frame, PINNED_ONLY_NOTE, pinnedMessage([])];
      condensed.pinnedAt = condensed.frame.length - 1;
    }
    condensed.pinnedListed = [...condensed.pinnedListed, ...missing];
    condensed.frame[condensed.pinnedAt] = pinnedMessage(condensed.pinnedListed);
  }

  private async condense(
    history: readonly ChatMessage[],
    facts: PinnedFacts,
    run: { toolTokens: number; tokensBefore: number; force: boolean; signal?: AbortSignal },
  ): Promise<ContextView | undefined> {
    const { policy } = this;
    const head = headOf(history);
    const headMessages = head.indices.map((i) => history[i] as ChatMessage);
    const headText = requestText(headMessages);
    const allFacts = facts.list();
    const trigger: Condensation['trigger'] = run.force ? 'context_too_long' : 'budget';
    const target = run.force ? Math.floor(Math.min(policy.targetTokens, run.tokensBefore) / 2) : policy.targetTokens;
    const hardLimit = policy.windowTokens - policy.reserveOutputTokens;

    // What the kept turns look like: superseded reads noted, old long outputs cut.
    const bodyFrom = head.taskIndex !== undefined ? head.taskIndex + 1 : head.indices.length;
    const cuts = new ObservationCuts(history, bodyFrom, policy, this.ageing);

    // Choose the kept turns: whole turns from the end, within the budget, the recent results always.
    const pinnedEstimate = this.tokens.text(renderPinnedFacts(allFacts.filter((fact) => !headText.includes(fact.text))));
    const summaryBudget = run.force ? Math.floor(policy.summaryTokens / 2) : policy.summaryTokens;
    const keptBudget = target - this.tokens.total(headMessages) - run.toolTokens - pinnedEstimate - summaryBudget;
    let keptFrom = this.keptFrom(history, bodyFrom, cuts, keptBudget);
    // Never unfold what a previous condensation folded (and still start at an assistant turn).
    if (this.condensed?.condensed === true && this.condensed.keptFrom > keptFrom) {
      const folded = this.condensed.keptFrom;
      keptFrom = history.findIndex((message, i) => i >= folded && message.role === 'assistant');
      if (keptFrom < 0) keptFrom = folded;
    }
    // Not worth it when, even with a summary of its full budget, it would not save half the room
    // new turns get (the recent results are most of the request): the prefix cache would break
    // for little. The request goes on as it is, and a later turn condenses once it pays.
    const keptTokens = history.slice(keptFrom).reduce((sum, _, k) => sum + this.tokens.of(cuts.kept(keptFrom + k)), 0);
    const atMost = this.tokens.total(headMessages) + run.toolTokens + pinnedEstimate + summaryBudget + keptTokens;
    const minSaving = (policy.triggerTokens - policy.targetTokens) * MIN_SAVING_SHARE_OF_GAP;
    if (!run.force && run.tokensBefore <= hardLimit && atMost > run.tokensBefore - minSaving) return undefined;
    const dropped: string[] = [];
    const kept = history.slice(keptFrom).map((message, k) => {
      const shown = cuts.kept(keptFrom + k);
      // A reply without the command its text repeated lost nothing worth reporting.
      if (shown !== message && message.role !== 'assistant') dropped.push(cuts.describe(keptFrom + k, shown));
      return shown;
    });

    // Summarise everything else of the body.
    const summarised = history.map((_, i) => i).filter((i) => i < keptFrom && !head.indices.includes(i));
    const { text: summary, usage, by } = await this.summarise(history, summarised, allFacts, summaryBudget, run.signal);

    const frameOf = (listed: readonly PinnedFact[]): ChatMessage[] => [
      ...headMessages,
      summaryMessage(summary, summarised.length, summarised.filter((i) => history[i]?.role === 'assistant').length, by),
      pinnedMessage(listed),
    ];
    const build = (listed: readonly PinnedFact[], cutRecent: boolean): ChatMessage[] => [
      ...frameOf(listed),
      ...(cutRecent ? history.slice(keptFrom).map((_, k) => cuts.kept(keptFrom + k, true)) : kept),
    ];

    // First build: pin what was folded away (and what was never in the history); check it all.
    let listed = allFacts.filter((fact) => !headText.includes(fact.text) && fact.seenAt < keptFrom);
    let prefix = build(listed, false);
    let rejected: string | undefined;
    const lost = missingFacts(prefix, allFacts);
    if (lost.length > 0) {
      rejected = `the first condensation lost ${describeLost(lost)}`;
      listed = [...listed, ...lost];
      prefix = build(listed, false);
    }
    let tokensAfter = this.tokens.total(prefix) + run.toolTokens;
    let agedBefore = cuts.agedBefore;
    if (tokensAfter > hardLimit || (run.force && tokensAfter > target)) {
      agedBefore = history.length;
      // Last resort: the recent results are too big to send whole.
      prefix = build(listed, true);
      tokensAfter = this.tokens.total(prefix) + run.toolTokens;
      dropped.push(`the last ${policy.keepRecentObservations} tool results too were cut to ${policy.maxObservationTokens} tokens each: ${run.force ? 'the provider refused the request as too long' : 'the request passed the usable window'}`);
      const stillLost = missingFacts(prefix, allFacts);
      if (stillLost.length > 0) {
        const lostNow = `cutting the last results lost ${describeLost(stillLost)}`;
        rejected = rejected === undefined ? lostNow : `${rejected}; ${lostNow}`;
        listed = [...listed, ...stillLost];
        prefix = build(listed, true);
        tokensAfter = this.tokens.total(prefix) + run.toolTokens;
      }
    }

    const settledTokens = agedBefore === history.length ? tokensAfter : this.tokens.total(build(listed, true)) + run.toolTokens;
    this.condensed = {
      settledTokens,
      frame: prefix.slice(0, headMessages.length + 2),
      taskIndex: head.taskIndex,
      agedBefore,
      notes: cuts.notes,
      coveredUpTo: history.length,
      lastCovered: history[history.length - 1],
      summarised,
      summary: summarised.length > 0 ? summary : undefined,
      keptFrom,
      pinnedAt: headMessages.length + 1,
      pinnedListed: listed,
      tokensAfter,
      condensed: true,
    };
    const condensation: Condensation = {
      trigger,
      tokensBefore: run.tokensBefore,
      tokensAfter,
      counted: this.counting,
      summarisedMessages: summarised.length,
      summarisedBy: by,
      dropped,
      pinnedFacts: allFacts.length,
      ...(rejected !== undefined ? { rejected } : {}),
    };
    return { messages: [...prefix], tokens: tokensAfter, condensation, ...(usage !== undefined ? { summariserUsage: usage } : {}) };
  }

  /** The summary of `indices`, by the configured summariser, or by rule when it fails. */
  private async summarise(
    history: readonly ChatMessage[],
    indices: readonly number[],
    pinned: readonly PinnedFact[],
    maxTokens: number,
    signal: AbortSignal | undefined,
  ): Promise<{ text: string; usage?: Usage; by: Condensation['summarisedBy'] }> {
    if (indices.length === 0) return { text: '', by: this.summariser.by };
    const messages = indices.map((i) => history[i] as ChatMessage);
    const before = this.condensed?.condensed === true ? this.condensed : undefined;
    const previous =
      before?.summary !== undefined && before.summarised.every((index, k) => indices[k] === index)
        ? { text: before.summary, messages: before.summarised.length }
        : undefined;
    if (this.summariser !== this.ruleSummariser) {
      try {
        const result = await this.summariser.summarise(messages, { pinned, maxTokens, ...(signal ? { signal } : {}), ...(previous ? { previous } : {}) });
        if (result.text.trim() !== '') return { ...result, by: this.summariser.by };
      } catch (err) {
        if (signal?.aborted) throw err;
        // A summariser that fails costs detail, never the turn: the rule summary stands in.
      }
    }
    return { text: this.ruleSummariser.summariseNow(messages, maxTokens), by: 'rule' };
  }

  /**
   * The first history index kept verbatim: whole turns from the end while they fit `budget`,
   * the turns holding the recent observations (and the last turn) always, starting at an
   * assistant message (so a tool result never loses its call, and roles keep alternating after
   * the pinned-facts message).
   */
  private keptFrom(history: readonly ChatMessage[], bodyFrom: number, cuts: ObservationCuts, budget: number): number {
    const turns = turnsOf(history, bodyFrom, history.length);
    let keptFrom = history.length;
    let used = 0;
    for (let t = turns.length - 1; t >= 0; t--) {
      const turn = turns[t] as Turn;
      let cost = 0;
      let mandatory = t === turns.length - 1;
      for (let i = turn.start; i < turn.end; i++) {
        cost += this.tokens.of(cuts.kept(i));
        if (cuts.recent.has(i)) mandatory = true;
      }
      if (!mandatory && used + cost > budget) break;
      keptFrom = turn.start;
      used += cost;
    }
    if (history[keptFrom]?.role === 'assistant') return keptFrom;
    // Start at an assistant turn, keeping one more turn rather than one fewer.
    const starts = turns.map((turn) => turn.start).filter((start) => history[start]?.role === 'assistant');
    return [...starts].reverse().find((start) => start < keptFrom) ?? starts.find((start) => start > keptFrom) ?? keptFrom;
  }
}
