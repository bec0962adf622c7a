/**
 * The facts a condensation must keep word for word, found in the history itself (nobody tells
 * the condenser what matters) plus the ones given from outside. Rules, applied to each message
 * once, in order:
 * - the task: the title line of the first user message (its first line of prose: not markup
 *   such as `<pr_description>`, not an introduction ending in `:`), and its constraint
 *   sentences ("DO NOT MODIFY: Tests", "must", "never", "should", "only" …, outside code);
 * - a later user message: when short, the whole message is a person's instruction or feedback
 *   (lines that are only a `/command` to the chat tool are left out); when long, its constraint
 *   sentences; either way its error lines and failing tests;
 * - a tool result (observation): its error lines (`XxxError: …`, `FAILED …`, `FAIL: …`,
 *   assertion messages, compiler errors) and the failing tests its output names
 *   (`failingTestNames`, when the output is a test run it can read whole);
 * - an assistant turn: the files it wrote (tool calls such as `fs.write`/`fs.edit`, shell
 *   commands such as `sed -i … path` or `cat > path`, inline scripts that `open(path, 'w')`,
 *   SEARCH/REPLACE blocks and diffs in its text);
 * - given facts, through {@link PinnedFacts.pin}: files in scope, the user's preferences, and
 *   what the agent pins itself with `context.pin`.
 *
 * Bounded, so pins cannot eat the budget: each fact is cut to `maxChars`, and each kind keeps
 * its first few facts and its most recent ones ({@link DEFAULT_PINNED_FACT_LIMITS}): the first
 * errors of a run are usually about the environment (a missing module) and stay true, the latest
 * are the current problem. A fact seen again counts as recent again. Among errors, the one
 * dropped is the oldest of the type kept most often, so ten missing modules cannot push out
 * the one `AttributeError` that mattered. Deterministic: the same
 * history gives the same facts in the same order.
 */
import type { ChatMessage } from '@maestro/llm';
import { failingTestNames } from '../test-failures.js';
import { constraintSentences } from './constraint-sentences.js';
import { PinnedFactKinds, type PinnedFact, type PinnedFactKind } from './context-types.js';
import { errorLines } from './error-lines.js';
import { fileOperationsOf } from './file-operations.js';

/** How many facts of one kind are kept: the first `first` ever seen, and the `last` most recent. */
export interface PinnedFactLimit {
  first: number;
  last: number;
}

/** The default limits per kind (see the module comment). */
export const DEFAULT_PINNED_FACT_LIMITS: Readonly<Record<PinnedFactKind, PinnedFactLimit>> = {
  task: { first: 1, last: 0 },
  constraint: { first: 6, last: 6 },
  file: { first: 4, last: 8 },
  failing_test: { first: 2, last: 25 },
  error: { first: 4, last: 8 },
  preference: { first: 0, last: 12 },
  user_feedback: { first: 2, last: 10 },
  agent: { first: 0, last: 16 },
};

/** A fact longer than this is cut to it. */
export const PINNED_FACT_MAX_CHARS = 300;

/** The order kinds are listed in. */
const KIND_ORDER: readonly PinnedFactKind[] = [
  PinnedFactKinds.task,
  PinnedFactKinds.constraint,
  PinnedFactKinds.userFeedback,
  PinnedFactKinds.preference,
  PinnedFactKinds.file,
  PinnedFactKinds.failingTest,
  PinnedFactKinds.error,
  PinnedFactKinds.agent,
];

/** Options of {@link PinnedFacts}. */
export interface PinnedFactsOptions {
  /** Limits per kind, over the defaults. @default DEFAULT_PINNED_FACT_LIMITS */
  limits?: Partial<Record<PinnedFactKind, PinnedFactLimit>>;
  /** Longest fact kept, in characters. @default PINNED_FACT_MAX_CHARS */
  maxChars?: number;
}

/** The facts of one kind, in the order they were (last) seen, with the first ones marked. */
interface KindFacts {
  facts: Map<string, PinnedFact>;
  /** Texts among the first ones ever seen of this kind (kept whatever comes later). */
  firsts: Set<string>;
}

/** The type of an error line: what comes before its first `:` or space (`ModuleNotFoundError`, `FAILED`). */
function errorType(line: string): string {
  return /^(?:E\s+)?([^:\s]+)/.exec(line)?.[1] ?? line;
}

/**
 * Which of the `recent` errors to drop: the oldest of the type kept most often (among `all`),
 * so one noisy kind of error (ten missing modules) cannot push out every other one.
 */
function mostRepeatedType(all: readonly string[], recent: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const text of all) counts.set(errorType(text), (counts.get(errorType(text)) ?? 0) + 1);
  let pick = 0;
  recent.forEach((text, i) => {
    if ((counts.get(errorType(text)) ?? 0) > (counts.get(errorType(recent[pick] as string)) ?? 0)) pick = i;
  });
  return pick;
}

/** Whether a line is only a command to the chat tool (`/clear`, `/run pytest`), not something said to the agent. */
const SLASH_COMMAND = /^\s*\/[a-z][\w-]*(\s|$)/i;

/**
 * The parts of a user message short enough to be instructions kept whole: the runs of lines
 * between `/command` lines, each trimmed (so each is word for word in the message); none when
 * the message, commands left out, is longer than `maxChars`.
 */
function shortInstructions(content: string, maxChars: number): string[] {
  const blocks: string[][] = [[]];
  for (const line of content.split(/\r?\n/)) {
    if (SLASH_COMMAND.test(line)) blocks.push([]);
    else (blocks[blocks.length - 1] as string[]).push(line);
  }
  const texts = blocks.map((lines) => lines.join('\n').trim()).filter((text) => text !== '');
  return texts.join('\n').length <= maxChars ? texts : [];
}

/** The title line of a task: its first line of prose (not markup, not an introduction ending in `:`). */
export function taskTitle(task: string): string | undefined {
  for (const raw of task.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || /^<\/?[\w-]+>$/.test(line) || line.endsWith(':') || /^(```|~~~|---|===)/.test(line)) continue;
    return line.replace(/^#+\s*/, '');
  }
  return undefined;
}

/** The facts to pin, found in the history and given from outside (see the module comment). */
export class PinnedFacts {
  private readonly limits: Record<PinnedFactKind, PinnedFactLimit>;
  private readonly maxChars: number;
  private readonly byKind = new Map<PinnedFactKind, KindFacts>();
  /** Facts given from outside, kept apart so a rescan of the history does not lose them. */
  private readonly given: Array<Omit<PinnedFact, 'text'> & { text: string }> = [];
  private scanned = 0;
  private lastScanned: ChatMessage | undefined;
  private taskIndex: number | undefined;

  constructor(options: PinnedFactsOptions = {}) {
    this.limits = { ...DEFAULT_PINNED_FACT_LIMITS, ...options.limits };
    this.maxChars = options.maxChars ?? PINNED_FACT_MAX_CHARS;
  }

  /**
   * Reads the messages of `history` not read yet. A history that is not the one read before
   * plus new messages (shorter, or a different message where the last read one was) is read
   * again from the start; given facts stay.
   */
  update(history: readonly ChatMessage[]): void {
    const last = history[this.scanned - 1];
    const continues =
      this.scanned <= history.length &&
      (this.scanned === 0 || last === this.lastScanned || (last?.role === this.lastScanned?.role && last?.content === this.lastScanned?.content));
    if (!continues) this.reset();
    for (let i = this.scanned; i < history.length; i++) this.read(history[i] as ChatMessage, i);
    this.scanned = history.length;
    this.lastScanned = history[history.length - 1];
  }

  /** Pins a fact given from outside (a file in scope, a preference, what the agent pinned); `seenAt` −1 when it is not in the history. */
  pin(kind: PinnedFactKind, text: string, seenAt = -1): void {
    const fact = { kind, text: this.cut(text.trim()), seenAt };
    if (fact.text === '') return;
    this.given.push(fact);
    this.add(kind, fact.text, seenAt);
  }

  /** Every fact, by kind (task, constraints, user feedback, preferences, files, failing tests, errors, agent), each kind in the order seen. */
  list(): PinnedFact[] {
    return KIND_ORDER.flatMap((kind) => [...(this.byKind.get(kind)?.facts.values() ?? [])]);
  }

  /** How many facts there are. */
  get size(): number {
    let size = 0;
    this.byKind.forEach((kind) => (size += kind.facts.size));
    return size;
  }

  private reset(): void {
    this.byKind.clear();
    this.scanned = 0;
    this.lastScanned = undefined;
    this.taskIndex = undefined;
    for (const fact of this.given) this.add(fact.kind, fact.text, fact.seenAt);
  }

  private cut(text: string): string {
    return text.length > this.maxChars ? text.slice(0, this.maxChars) : text;
  }

  /** Adds (or refreshes) a fact, then drops the oldest of its kind beyond the limit, never one of the first. */
  private add(kind: PinnedFactKind, rawText: string, seenAt: number): void {
    const text = this.cut(rawText.trim());
    if (text === '') return;
    const limit = this.limits[kind];
    let entry = this.byKind.get(kind);
    if (entry === undefined) {
      entry = { facts: new Map(), firsts: new Set() };
      this.byKind.set(kind, entry);
    }
    entry.facts.delete(text);
    entry.facts.set(text, { kind, text, seenAt });
    if (entry.firsts.size < limit.first && !entry.firsts.has(text)) entry.firsts.add(text);
    const recent = [...entry.facts.keys()].filter((key) => !entry.firsts.has(key));
    while (recent.length > limit.last) {
      const evicted = kind === PinnedFactKinds.error ? mostRepeatedType([...entry.facts.keys()], recent) : 0;
      entry.facts.delete(recent[evicted] as string);
      recent.splice(evicted, 1);
    }
  }

  private read(message: ChatMessage, index: number): void {
    switch (message.role) {
      case 'user':
        if (this.taskIndex === undefined) {
          this.taskIndex = index;
          const title = taskTitle(message.content);
          if (title !== undefined) this.add(PinnedFactKinds.task, title, index);
          constraintSentences(message.content).forEach((sentence) => this.add(PinnedFactKinds.constraint, sentence, index));
          return;
        }
        this.readUserMessage(message.content, index);
        return;
      case 'tool':
        this.readObservation(message.content, index);
        return;
      case 'assistant':
        for (const op of fileOperationsOf(message)) if (op.kind === 'write') this.add(PinnedFactKinds.file, op.path, index);
        return;
      default:
        return;
    }
  }

  private readUserMessage(content: string, index: number): void {
    const instructions = shortInstructions(content, this.maxChars);
    instructions.forEach((instruction) => this.add(PinnedFactKinds.userFeedback, instruction, index));
    if (instructions.length === 0) constraintSentences(content).forEach((sentence) => this.add(PinnedFactKinds.constraint, sentence, index));
    this.readObservation(content, index);
  }

  private readObservation(content: string, index: number): void {
    errorLines(content).forEach((line) => this.add(PinnedFactKinds.error, line, index));
    if (!/fail|error|not ok|✖|✕|●/i.test(content)) return;
    const failing = failingTestNames(content);
    if (failing.known) failing.names.forEach((name) => this.add(PinnedFactKinds.failingTest, name, index));
  }
}
