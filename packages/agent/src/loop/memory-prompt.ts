/**
 * Recalled memories in the system prompt: a section "What we know about this repository", one
 * line per memory with its kind, in memory's order (pinned first, then best first) until the
 * token budget is full. What went in
 * (the content as it went in, a last one possibly cut) is what the `recall` step reports.
 */
import type { RecalledMemory } from '@maestro/contracts';
import { countTokens } from '@maestro/llm';

/** The section's heading, as the model sees it. */
export const MEMORY_SECTION_TITLE = 'What we know about this repository';
/** A memory that does not fit whole is cut to the room left only when at least this many tokens are left; below, it is left out. */
const MIN_CUT_TOKENS = 24;
const CUT_MARK = ' …';

/** The memories that went into the prompt and the section that carries them ('' when none did). */
export interface MemoryPrompt {
  section: string;
  /** Exactly the memories in `section`, in its order, each with its content as it went in. */
  used: RecalledMemory[];
}

/** One memory's line: `- [reflex] in this repo, tests need TZ=UTC`. */
function memoryLine(kind: string, content: string): string {
  return `- [${kind}] ${content}`;
}

/** The longest prefix of `content` (plus a cut mark) whose line fits `room` tokens, or undefined. */
function cutToFit(kind: string, content: string, room: number): string | undefined {
  let low = 0;
  let high = content.length;
  let best: string | undefined;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const candidate = `${content.slice(0, middle).trimEnd()}${CUT_MARK}`;
    if (countTokens(memoryLine(kind, candidate)) <= room) {
      best = candidate;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best !== undefined && best.length > CUT_MARK.length ? best : undefined;
}

/**
 * Renders `memories` in the order memory gave them (pinned ones first, whatever their score,
 * then best first: re-sorting by score would push a pinned memory to the end) into the section, each line
 * counted with the o200k tokenizer, until `budgetTokens` is full. Content is flattened to one
 * line, so a memory reads the same wherever it is quoted (and a preference can be checked
 * verbatim as a pinned fact). The first memory that does not fit whole is cut to the room left
 * when that is worth it, and ends the section.
 */
export function renderMemories(memories: readonly RecalledMemory[], budgetTokens: number): MemoryPrompt {
  const used: RecalledMemory[] = [];
  const lines: string[] = [];
  let room = budgetTokens;
  for (const memory of memories) {
    const content = memory.content.replace(/\s+/g, ' ').trim();
    if (content === '') continue;
    const line = memoryLine(memory.kind, content);
    const cost = countTokens(line) + 1;
    if (cost <= room) {
      used.push({ ...memory, content });
      lines.push(line);
      room -= cost;
      continue;
    }
    const cut = room >= MIN_CUT_TOKENS ? cutToFit(memory.kind, content, room - 1) : undefined;
    if (cut !== undefined) {
      used.push({ ...memory, content: cut });
      lines.push(memoryLine(memory.kind, cut));
    }
    break;
  }
  if (used.length === 0) return { section: '', used };
  return {
    section: [
      `${MEMORY_SECTION_TITLE} (recalled from earlier work; preferences are the user's or team's, reflexes are lessons from verified outcomes):`,
      ...lines,
    ].join('\n'),
    used,
  };
}
