/**
 * Replays a transcript through the condenser as the agent loop would have sent it: for each
 * assistant turn i, the request is the view of `messages[0..i)`. Measures, over the run: input
 * tokens sent without condensing (the whole history every turn) and with; the cacheable share
 * (tokens of each request that are an exact prefix, by whole messages, of the previous request,
 * over all tokens sent: what a provider's prefix cache can serve, ignoring its block sizes);
 * and how many of the transcript's listed facts are in the last request word for word. The same
 * for the peer, a plain sliding window to the same target.
 */
import { Condenser, MessageTokens, PinnedFacts, requestText, type ContextPolicy, type TokenCounting } from '@maestro/agent';
import type { ChatMessage, TokenCounter } from '@maestro/llm';
import { slidingWindow } from './sliding-window.js';
import type { Transcript } from './transcripts.js';

/** How a replay runs. */
export interface ReplaySettings {
  policy: ContextPolicy;
  counting: TokenCounting;
  tokenCounter: TokenCounter;
}

/** What one approach sent over a run. */
export interface RunTotals {
  inputTokens: number;
  savedShare: number;
  cacheableShare: number;
  factsKept: number;
  /** The listed facts missing from the last request. */
  lostFacts: string[];
}

/** One transcript's figures. */
export interface ReplayResult {
  id: string;
  producer: string;
  messages: number;
  turns: number;
  inputTokensWithout: number;
  inputTokensWith: number;
  savedShare: number;
  cacheableShare: number;
  factsKept: number;
  factsTotal: number;
  condensations: number;
  /** Condensations whose first build lost a pinned fact and were rebuilt. */
  rejectedCondensations: number;
  lostFacts: string[];
  /** Without condensing, the cacheable share (the history only grows, so nearly all of it). */
  cacheableShareWithout: number;
  /** The peer: a plain sliding window to the same target. */
  slidingWindow: RunTotals;
}

/** The figures over several transcripts (the last line of `--json`). */
export interface ReplayTotals {
  transcripts: number;
  inputTokensWithout: number;
  inputTokensWith: number;
  savedShare: number;
  cacheableShare: number;
  factsKept: number;
  factsTotal: number;
}

function sameMessage(a: ChatMessage, b: ChatMessage): boolean {
  return a === b || (a.role === b.role && a.content === b.content && a.toolCallId === b.toolCallId && a.name === b.name && JSON.stringify(a.toolCalls ?? []) === JSON.stringify(b.toolCalls ?? []));
}

/** Tokens of the messages `request` shares, from the start, with `previous`. */
export function cachedPrefixTokens(previous: readonly ChatMessage[], request: readonly ChatMessage[], tokens: MessageTokens): number {
  let cached = 0;
  for (let i = 0; i < Math.min(previous.length, request.length); i++) {
    if (!sameMessage(previous[i] as ChatMessage, request[i] as ChatMessage)) break;
    cached += tokens.of(request[i] as ChatMessage);
  }
  return cached;
}

/** Accumulates one approach's requests. */
class RunMeter {
  sent = 0;
  cached = 0;
  private previous: ChatMessage[] = [];
  last: ChatMessage[] = [];

  constructor(private readonly tokens: MessageTokens) {}

  add(request: ChatMessage[], size = this.tokens.total(request)): void {
    this.sent += size;
    this.cached += cachedPrefixTokens(this.previous, request, this.tokens);
    this.previous = request;
    this.last = request;
  }

  totals(without: number, facts: Transcript['facts']): RunTotals {
    const text = requestText(this.last);
    const lost = facts.filter((fact) => !text.includes(fact.text)).map((fact) => `${fact.kind}: ${fact.text}`);
    return {
      inputTokens: this.sent,
      savedShare: without === 0 ? 0 : 1 - this.sent / without,
      cacheableShare: this.sent === 0 ? 0 : this.cached / this.sent,
      factsKept: facts.length - lost.length,
      lostFacts: lost,
    };
  }
}

/** Replays one transcript (see the module comment). */
export async function replayTranscript(transcript: Transcript, settings: ReplaySettings): Promise<ReplayResult> {
  const tokens = new MessageTokens(settings.tokenCounter);
  const condenser = new Condenser({ policy: settings.policy, counting: settings.counting, tokenCounter: settings.tokenCounter });
  const facts = new PinnedFacts();
  const without = new RunMeter(tokens);
  const withCondenser = new RunMeter(tokens);
  const window = new RunMeter(tokens);
  let condensations = 0;
  let rejected = 0;
  for (let i = 0; i < transcript.messages.length; i++) {
    if (transcript.messages[i]?.role !== 'assistant' || i === 0) continue;
    const history = transcript.messages.slice(0, i);
    without.add(history);
    const view = await condenser.view(history, facts);
    if (view.condensation !== undefined) {
      condensations++;
      if (view.condensation.rejected !== undefined) rejected++;
    }
    withCondenser.add(view.messages, view.tokens);
    window.add(slidingWindow(history, settings.policy.targetTokens, tokens));
  }
  const base = without.totals(without.sent, transcript.facts);
  const ours = withCondenser.totals(without.sent, transcript.facts);
  return {
    id: transcript.id,
    producer: transcript.producer,
    messages: transcript.messages.length,
    turns: transcript.turns,
    inputTokensWithout: without.sent,
    inputTokensWith: ours.inputTokens,
    savedShare: ours.savedShare,
    cacheableShare: ours.cacheableShare,
    factsKept: ours.factsKept,
    factsTotal: transcript.facts.length,
    condensations,
    rejectedCondensations: rejected,
    lostFacts: ours.lostFacts,
    cacheableShareWithout: base.cacheableShare,
    slidingWindow: window.totals(without.sent, transcript.facts),
  };
}

/** The totals over `results`. */
export function totalsOf(results: readonly ReplayResult[]): ReplayTotals {
  const inputTokensWithout = results.reduce((sum, r) => sum + r.inputTokensWithout, 0);
  const inputTokensWith = results.reduce((sum, r) => sum + r.inputTokensWith, 0);
  const cached = results.reduce((sum, r) => sum + r.cacheableShare * r.inputTokensWith, 0);
  return {
    transcripts: results.length,
    inputTokensWithout,
    inputTokensWith,
    savedShare: inputTokensWithout === 0 ? 0 : 1 - inputTokensWith / inputTokensWithout,
    cacheableShare: inputTokensWith === 0 ? 0 : cached / inputTokensWith,
    factsKept: results.reduce((sum, r) => sum + r.factsKept, 0),
    factsTotal: results.reduce((sum, r) => sum + r.factsTotal, 0),
  };
}
