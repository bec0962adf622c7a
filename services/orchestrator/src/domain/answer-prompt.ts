/**
 * The prompt of the `answer` activity (the read-only `explain` workflow): the question, the
 * repository's file listing, excerpts of the files most likely to hold the answer, and what
 * memory knows about the project. Pure: which files to quote is decided here
 * ({@link chooseFilesToQuote}); reading them is the activity's job.
 */
import { cutEnd, cutMiddle, UserError } from '@maestro/runtime';
import { formatMemoryNote, summarizeFileListing, type MemoryNote, type PromptMessage } from './prompts.js';

/** Limits of what the answer prompt quotes, in one place. */
export const AnswerPromptLimits = {
  /** Files quoted at most. */
  files: 8,
  /** Characters quoted per file (head and tail of a longer one, with a marker). */
  charsPerFile: 12_000,
  /** Characters quoted over all files. */
  charsTotal: 48_000,
  /** Longest answer kept, in characters (a longer one is cut with a marker). */
  answerChars: 20_000,
} as const;

/** One quoted file. */
export interface QuotedFile {
  path: string;
  text: string;
}

/** What the answer prompt is built from. */
export interface AnswerPromptInput {
  question: string;
  project: string;
  files: readonly string[];
  quoted: readonly QuotedFile[];
  notes: readonly MemoryNote[];
}

const ANSWER_SYSTEM = [
  'You are Orion, the strategic agent of a coding platform. The user asked a question about a repository (or asked for feedback on its code); answer it.',
  'Nothing will be changed: do not propose to edit files or run commands on your own, and do not claim to have done so.',
  'Answer from the files quoted and the file listing. Name the files (and functions) your answer rests on. When the quoted files are not enough to be sure, say what you could not see.',
  'Reply with the answer only, in plain text or Markdown.',
].join('\n');

/** Words of the question that may name a file: identifiers and paths of 3 characters or more, lower-cased. */
function questionWords(question: string): Set<string> {
  return new Set((question.toLowerCase().match(/[a-z0-9_][a-z0-9_.\-/]{2,}/g) ?? []).map((w) => w.replace(/[.\-/]+$/, '')));
}

/** The name of `path` without directories and extensions: `src/http-client.ts` → `http-client`. */
function stem(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.indexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/**
 * The files to quote for `question`, best first: each file whose path the question contains,
 * then each whose name (without extension) is a word of the question, then the top-level README.
 * At most {@link AnswerPromptLimits.files}.
 *
 * @example
 * chooseFilesToQuote('what does src/add.js export?', ['README.md', 'src/add.js']); // ['src/add.js', 'README.md']
 */
export function chooseFilesToQuote(question: string, files: readonly string[]): string[] {
  const lower = question.toLowerCase();
  const words = questionWords(question);
  const chosen: string[] = [];
  const add = (path: string): void => {
    if (!chosen.includes(path) && chosen.length < AnswerPromptLimits.files) chosen.push(path);
  };
  for (const path of files) if (lower.includes(path.toLowerCase())) add(path);
  for (const path of files) if (stem(path).length >= 3 && words.has(stem(path))) add(path);
  const readme = files.find((path) => /^readme(\.[a-z]+)?$/i.test(path));
  if (readme !== undefined) add(readme);
  return chosen;
}

/** The messages asking the strategic model to answer the question. */
export function buildAnswerPrompt(input: AnswerPromptInput): PromptMessage[] {
  const listing = summarizeFileListing(input.files);
  const sections = [
    `## Question\n${input.question}`,
    `## Repository\nProject: ${input.project}`,
    `## Files\n${listing.length > 0 ? listing.join('\n') : '(the repository has no files yet)'}`,
  ];
  let budget: number = AnswerPromptLimits.charsTotal;
  const quoted: string[] = [];
  for (const file of input.quoted) {
    if (budget <= 0) break;
    const text = cutMiddle(file.text, Math.min(AnswerPromptLimits.charsPerFile, budget));
    budget -= text.length;
    quoted.push(`### ${file.path}\n\`\`\`\n${text}\n\`\`\``);
  }
  if (quoted.length > 0) sections.push(`## Quoted files\n${quoted.join('\n\n')}`);
  if (input.notes.length > 0) sections.push(`## Notes from memory\n${input.notes.map(formatMemoryNote).join('\n')}`);
  return [
    { role: 'system', content: ANSWER_SYSTEM },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

/** Error code when the model's answer is empty. */
export const EMPTY_ANSWER = 'EMPTY_ANSWER';

/** What an answer reply must look like, for a re-ask. */
export const ANSWER_REPLY_FORMAT = 'the answer as plain text or Markdown (not empty)';

/** The answer in `reply`: trimmed, cut to {@link AnswerPromptLimits.answerChars}; throws when it is empty. */
export function parseAnswerReply(reply: string): string {
  const answer = reply.trim();
  if (answer === '') throw new UserError(EMPTY_ANSWER, 'the reply is empty');
  return cutEnd(answer, AnswerPromptLimits.answerChars);
}
