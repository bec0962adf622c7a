/**
 * Prompt builders for the strategic model: the plan prompt (goal, repository layout, test
 * command, recalled memory notes) and the review prompt (goal and each subtask's evidence).
 * Pure functions from data to messages, so what the model sees is testable and reviewable.
 */

/** A message for the model; the activity turns it into a `ChatMessage`. */
export interface PromptMessage {
  role: 'system' | 'user';
  content: string;
}

/** Limits of the repository listing in the plan prompt. */
export interface FileListingLimits {
  /** Paths deeper than this are collapsed into their directory at this depth. @default 3 */
  maxDepth?: number;
  /** Most lines in the listing; the rest are counted, not shown. @default 200 */
  maxEntries?: number;
}

/**
 * The repository's layout as lines: files up to `maxDepth` levels, deeper ones collapsed into
 * `dir/sub/ (N files)`, at most `maxEntries` lines. Big repositories stay within the prompt
 * budget while the model still sees where things live.
 */
export function summarizeFileListing(files: readonly string[], limits: FileListingLimits = {}): string[] {
  const maxDepth = limits.maxDepth ?? 3;
  const maxEntries = limits.maxEntries ?? 200;
  const entries = new Map<string, number>();
  for (const file of [...files].sort()) {
    const segments = file.split('/').filter((s) => s !== '');
    if (segments.length === 0) continue;
    if (segments.length <= maxDepth) entries.set(segments.join('/'), 0);
    else {
      const dir = `${segments.slice(0, maxDepth).join('/')}/`;
      entries.set(dir, (entries.get(dir) ?? 0) + 1);
    }
  }
  const lines = [...entries].map(([entry, count]) => (count > 0 ? `${entry} (${count} file${count === 1 ? '' : 's'})` : entry));
  if (lines.length <= maxEntries) return lines;
  return [...lines.slice(0, maxEntries), `… and ${lines.length - maxEntries} more entries`];
}

/** What the plan prompt is built from. */
export interface PlanPromptInput {
  goal: string;
  project: string;
  testCommand: readonly string[];
  /** Workspace-relative paths of the repository's files. */
  files: readonly string[];
  /** Recalled memory notes (preferences, project context, reflexes), most relevant first. */
  notes: ReadonlyArray<{ kind: string; content: string }>;
  limits?: FileListingLimits;
}

/** The reply format the plan prompt asks for; also documented in the service README. */
export const PLAN_REPLY_FORMAT = `{"subtasks":[{"id":"s1","title":"short title","instructions":"what to do, precisely","files":["src/example.js"]}]}`;

/** The reply format the review prompt asks for. */
export const REVIEW_REPLY_FORMAT = `{"approved": true, "summary": "what was done and whether it meets the goal"}`;

const PLAN_SYSTEM = [
  'You are Orion, the lead engineer of a team of autonomous coding agents.',
  'Split the goal into 1 to 20 subtasks. Each subtask is done by one agent working in the repository:',
  'it edits files, runs the test command and commits.',
  'Give each subtask an id made of letters, digits, ".", "_" or "-" (s1, s2, …), a short title,',
  'precise instructions, and the workspace-relative paths of the files it will create or change',
  '(agents lock those paths, so subtasks that share a file run one after the other).',
  'Paths are relative to the repository root, use "/" and never contain "..".',
  'Reply with JSON only, exactly in this shape:',
  PLAN_REPLY_FORMAT,
].join('\n');

const REVIEW_SYSTEM = [
  'You are Orion, the lead engineer reviewing the work of your coding agents.',
  'Decide whether the work done meets the goal, using the evidence given: each subtask\'s summary,',
  'the files it changed, its commit and its test run. Approve only when the goal is met and the tests pass.',
  'Reply with JSON only, exactly in this shape:',
  REVIEW_REPLY_FORMAT,
].join('\n');

function formatCommand(command: readonly string[]): string {
  return command.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
}

/** The messages asking the strategic model for a plan. */
export function buildPlanPrompt(input: PlanPromptInput): PromptMessage[] {
  const listing = summarizeFileListing(input.files, input.limits);
  const sections = [
    `## Goal\n${input.goal}`,
    `## Repository\nProject: ${input.project}\nTest command: ${formatCommand(input.testCommand)}`,
    `## Files\n${listing.length > 0 ? listing.join('\n') : '(the repository has no files yet)'}`,
  ];
  if (input.notes.length > 0) {
    sections.push(`## Notes from memory\n${input.notes.map((n) => `- (${n.kind}) ${n.content}`).join('\n')}`);
  }
  return [
    { role: 'system', content: PLAN_SYSTEM },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

/** One subtask's evidence for the review. */
export interface ReviewSubtaskEvidence {
  id: string;
  title: string;
  status: string;
  summary: string | null;
  filesChanged: readonly string[];
  commitSha: string | null;
  failureReason: string | null;
  tests?: { command: readonly string[]; exitCode: number | null; passed: boolean; outputTail: string } | undefined;
}

/** What the review prompt is built from. */
export interface ReviewPromptInput {
  goal: string;
  testCommand: readonly string[];
  subtasks: readonly ReviewSubtaskEvidence[];
  /** Longest test output tail quoted per subtask. @default 2000 */
  maxOutputTail?: number;
}

/** The messages asking the strategic model to review the finished work. */
export function buildReviewPrompt(input: ReviewPromptInput): PromptMessage[] {
  const maxTail = input.maxOutputTail ?? 2000;
  const blocks = input.subtasks.map((s) => {
    const lines = [
      `### ${s.id}: ${s.title}`,
      `Status: ${s.status}`,
      `Summary: ${s.summary ?? '(none)'}`,
      `Files changed: ${s.filesChanged.length > 0 ? s.filesChanged.join(', ') : '(none)'}`,
      `Commit: ${s.commitSha ?? '(none)'}`,
    ];
    if (s.failureReason) lines.push(`Failure: ${s.failureReason}`);
    if (s.tests) {
      const tail = s.tests.outputTail.length > maxTail ? `…${s.tests.outputTail.slice(-maxTail)}` : s.tests.outputTail;
      lines.push(
        `Tests: \`${formatCommand(s.tests.command)}\` ${s.tests.passed ? 'passed' : 'failed'} (exit code ${s.tests.exitCode ?? 'none'})`,
        'Test output (tail):',
        '```',
        tail,
        '```',
      );
    } else {
      lines.push('Tests: not run');
    }
    return lines.join('\n');
  });
  const user = [
    `## Goal\n${input.goal}`,
    `## Test command\n${formatCommand(input.testCommand)}`,
    `## Subtasks\n${blocks.join('\n\n')}`,
  ].join('\n\n');
  return [
    { role: 'system', content: REVIEW_SYSTEM },
    { role: 'user', content: user },
  ];
}
