/**
 * The agent's context, as the loop and the condenser share it: the full history stays with the
 * loop; each turn the condenser derives the request from it (system prompt, task and pinned facts
 * verbatim, a stable condensed prefix, the recent turns whole), so provider prefix caches keep
 * hitting between condensations. Types only; see `condenser.ts`.
 */
import type { ChatMessage, Usage } from '@maestro/llm';
import type { Condensation } from '@maestro/contracts';

/** Kinds of pinned fact: what a condensation must keep verbatim. */
export const PinnedFactKinds = {
  /** The task itself (its first line / title). */
  task: 'task',
  /** A constraint or requirement of the task ("DO NOT MODIFY: Tests", "must not", "only"). */
  constraint: 'constraint',
  /** A file in scope (declared by the plan, or edited by the agent). */
  file: 'file',
  /** A failing test's name, or its failure message. */
  failingTest: 'failing_test',
  /** An error line an observation showed (`TypeError: …`, `ModuleNotFoundError: …`). */
  error: 'error',
  /** A preference of the user or team (recalled from memory). */
  preference: 'preference',
  /** Something the user said after the task (feedback, a new requirement). */
  userFeedback: 'user_feedback',
  /** A fact the agent pinned itself with the `context.pin` tool. */
  agent: 'agent',
} as const;
export type PinnedFactKind = (typeof PinnedFactKinds)[keyof typeof PinnedFactKinds];

/** One fact a condensation must keep, word for word. */
export interface PinnedFact {
  kind: PinnedFactKind;
  /** The exact text kept (a substring of where it was seen, unless the agent pinned it). */
  text: string;
  /** Index in the full history of the message it was found in; -1 for facts given from outside (files in scope, preferences). */
  seenAt: number;
}

/** The token budget of a request, derived from the model's context window. */
export interface ContextPolicy {
  /** The model's context window, in tokens. */
  windowTokens: number;
  /** Kept free for the reply. */
  reserveOutputTokens: number;
  /** A request larger than this (history + tools) is condensed. Below the window, so requests stay cheap. */
  triggerTokens: number;
  /** What a condensation aims for (the prefix and the kept recent turns). */
  targetTokens: number;
  /** Of the target, what the summary of older turns may take at most. */
  summaryTokens: number;
  /** The last this-many tool observations are always kept whole. */
  keepRecentObservations: number;
  /** A tool output longer than this (tokens) in the condensed part is cut to its head and tail with a marker. */
  maxObservationTokens: number;
}

/** How tokens were counted for a model. */
export type TokenCounting = Condensation['counted'];

/** What a {@link Summariser} is told besides the messages. */
export interface SummariseOptions {
  /** The facts the request keeps verbatim (in its pinned block): the summary need not repeat them, and must not contradict them. */
  pinned: readonly PinnedFact[];
  signal?: AbortSignal;
  /** The summary should fit in this many tokens. @default no limit */
  maxTokens?: number;
  /**
   * The summary of the previous condensation, which covered the first `messages` of `messages`.
   * A summariser that pays per token (a model) summarises that text plus the rest instead of
   * reading the whole past again; a rule summariser may ignore it and start over.
   * @default undefined (nothing was summarised before)
   */
  previous?: { text: string; messages: number };
}

/** Writes the summary of older turns: the tactical model when configured, by rule otherwise. */
export interface Summariser {
  readonly by: Condensation['summarisedBy'];
  /** A summary of `messages` that keeps what an engineer continuing the work needs. */
  summarise(messages: readonly ChatMessage[], options: SummariseOptions): Promise<{ text: string; usage?: Usage }>;
}

/** The request to send this turn, and the condensation made for it (if one was made now). */
export interface ContextView {
  messages: ChatMessage[];
  /** Tokens of `messages` (and the tools), as counted. */
  tokens: number;
  /** Set only on the turn a new condensation was made. */
  condensation?: Condensation;
  /** Tokens the summariser (a model) spent on this turn's condensation; absent when none was made or it was made by rule. */
  summariserUsage?: Usage;
}
