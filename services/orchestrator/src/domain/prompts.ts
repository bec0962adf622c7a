/**
 * Prompt builders for the strategic model: the plan prompt (goal, repository layout, test
 * command, recalled memory notes), the review prompt (goal, each subtask's evidence, recalled
 * memory notes), the escalation prompt (a failed subtask's packet and what was decided before),
 * the reflect prompt (a verified fix: the lesson to remember) and the re-ask of a reply that did
 * not parse. Pure functions from data to messages, so what the model sees is testable and
 * reviewable.
 */
import type { FailurePacket } from '@maestro/contracts';

/** A message for the model; the activity turns it into a `ChatMessage`. */
export interface PromptMessage {
  /** `assistant` only for the model's own earlier reply, when it is asked again. */
  role: 'system' | 'user' | 'assistant';
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

/** A recalled memory as it goes into a prompt. */
export interface MemoryNote {
  kind: string;
  content: string;
}

/**
 * One memory note as a prompt line: `- (<kind>) <content>`. The memory budget counts exactly
 * these lines (`domain/recall-budget.ts`), so what is counted is what is sent.
 */
export function formatMemoryNote(note: MemoryNote): string {
  return `- (${note.kind}) ${note.content}`;
}

/** What the plan prompt is built from. */
export interface PlanPromptInput {
  goal: string;
  project: string;
  testCommand: readonly string[];
  /** Workspace-relative paths of the repository's files. */
  files: readonly string[];
  /** Recalled memory notes (preferences, project context, reflexes), most relevant first. */
  notes: readonly MemoryNote[];
  limits?: FileListingLimits;
}

/** The reply format the plan prompt asks for; also documented in the service README. */
export const PLAN_REPLY_FORMAT = `{"subtasks":[{"id":"s1","title":"short title","instructions":"what to do, precisely","files":["src/example.js"],"dependsOn":[],"resources":[]}]}`;

/** The reply format the review prompt asks for. */
export const REVIEW_REPLY_FORMAT = `{"approved": true, "summary": "what was done and whether it meets the goal"}`;

const PLAN_SYSTEM = [
  'You are Orion, the lead engineer of a team of autonomous coding agents.',
  'Split the goal into 1 to 20 subtasks. Each subtask is done by one agent in its own git worktree of the task\'s branch:',
  'it edits files, runs the test command and commits, and its commit is merged into the task branch.',
  'Give each subtask an id made of letters, digits, ".", "_" or "-" (s1, s2, …), a short title,',
  'precise instructions, and the workspace-relative paths of the files it will create or change',
  '(a path ending in "/" means a whole directory).',
  'How subtasks are scheduled:',
  '- subtasks that share a file (or a file inside a listed directory) or a declared resource run one after the other, in the order you list them;',
  '- "dependsOn" lists ids of earlier subtasks that must succeed first; if one of them fails, the subtasks that depend on it do not run;',
  '- everything else runs in parallel.',
  'Declare in "resources" what else a subtask needs to itself: "port:<number>" for a port its tests listen on,',
  '"resource:<name>" for a shared service or database, "dir:<path>" for a directory it regenerates.',
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

/** A command line as a person would type it (arguments that need it JSON-quoted). */
export function formatCommand(command: readonly string[]): string {
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
  if (input.notes.length > 0) sections.push(`## Notes from memory\n${input.notes.map(formatMemoryNote).join('\n')}`);
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
  /** Recalled memory notes (preferences, conventions, lessons) the work is held to, most relevant first. @default [] */
  notes?: readonly MemoryNote[];
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
  const sections = [`## Goal\n${input.goal}`, `## Test command\n${formatCommand(input.testCommand)}`, `## Subtasks\n${blocks.join('\n\n')}`];
  const notes = input.notes ?? [];
  if (notes.length > 0) {
    sections.push(
      `## Notes from memory\nWhat the team knows about this repository (preferences, conventions, lessons from verified fixes); hold the work to them:\n${notes.map(formatMemoryNote).join('\n')}`,
    );
  }
  const user = sections.join('\n\n');
  return [
    { role: 'system', content: REVIEW_SYSTEM },
    { role: 'user', content: user },
  ];
}

/** The reply format the escalation prompt asks for (one of the four decisions). */
export const ESCALATION_REPLY_FORMAT = [
  '{"decision": "hint", "reason": "why", "hint": "what the agent missed and should do differently"}',
  '{"decision": "replan", "reason": "why", "subtasks": [{"title": "short title", "instructions": "what to do, precisely", "files": ["src/example.js"]}]}',
  '{"decision": "takeover", "reason": "why you will do it yourself", "hint": "optional notes for yourself"}',
  '{"decision": "abandon", "reason": "why the goal cannot be reached"}',
].join('\n');

const ESCALATION_SYSTEM = [
  'You are Orion, the lead engineer of a team of autonomous coding agents.',
  'One of your agents failed its subtask and escalated it to you with its evidence: what it was asked,',
  'how it ended, its diff, the failing test output and its own account. Decide what happens next, exactly one of:',
  '- "hint": the subtask runs again and the agent is shown your hint. Best when the evidence points at a specific mistake.',
  '- "replan": the subtask is replaced by 1 to 5 new, smaller subtasks you describe. Best when it was too big or cut wrongly.',
  '  They take its place: they wait for what it waited for, subtasks that depended on it wait for all of them, and those that share a file run one after the other in the order you list them.',
  '- "takeover": you work the subtask yourself, with the same tools. Best when the agent lacks the skill rather than the information.',
  '- "abandon": the whole task fails with your reason. Only when the goal cannot be reached.',
  'File paths are relative to the repository root, use "/" and never contain "..".',
  'Reply with JSON only, in one of these shapes:',
  ESCALATION_REPLY_FORMAT,
].join('\n');

/** An earlier escalation of the same subtask, and what was decided. */
export interface EarlierEscalation {
  attempt: number;
  reason: string;
  decision: string;
  decisionReason: string;
  hint?: string | undefined;
}

/** What the escalation prompt is built from. */
export interface EscalationPromptInput {
  goal: string;
  testCommand: readonly string[];
  subtaskId: string;
  attempt: number;
  /** Who worked the failed attempt. */
  role: 'tactical' | 'strategic';
  packet: FailurePacket;
  /** The failed result's reason, as the executor put it. */
  failureReason: string | undefined;
  /** Earlier escalations of this subtask, oldest first. */
  earlier: readonly EarlierEscalation[];
  /** The task's other subtasks, for a re-plan that fits around them. */
  otherSubtasks: ReadonlyArray<{ id: string; title: string; status: string }>;
}

function fenced(text: string): string {
  const fence = text.includes('```') ? '~~~~' : '```';
  return `${fence}\n${text}\n${fence}`;
}

/** The messages asking the strategic model to decide an escalation. */
export function buildEscalationPrompt(input: EscalationPromptInput): PromptMessage[] {
  const { packet } = input;
  const subtask = [
    `Id: ${input.subtaskId} (attempt ${input.attempt}, worked by the ${input.role} model)`,
    `Title: ${packet.subtask.title}`,
    `Instructions:\n${packet.subtask.instructions}`,
    `Files: ${packet.subtask.files.length > 0 ? packet.subtask.files.join(', ') : '(none named)'}`,
    ...(packet.subtask.hint !== undefined ? [`Hint it was given: ${packet.subtask.hint}`] : []),
  ];
  const attempts =
    packet.attempts.length > 0 ? packet.attempts.map((a) => `- step ${a.step}: ${a.summary} (${a.ok ? 'passed' : 'failed'})`).join('\n') : '(the tests never ran)';
  const failure = [
    `Reason: ${packet.reason}${input.failureReason ? ` — ${input.failureReason}` : ''}`,
    `Model turns: ${packet.steps}; tokens spent: ${packet.tokensSpent.input} in, ${packet.tokensSpent.output} out`,
    `Files changed: ${packet.filesChanged.length > 0 ? packet.filesChanged.join(', ') : '(none)'}`,
    `Test runs:\n${attempts}`,
    `The agent's own account:\n${packet.agentAccount || '(none)'}`,
    `Failing test output (end):\n${packet.failingTestOutput ? fenced(packet.failingTestOutput) : '(none)'}`,
    `Its diff:\n${packet.lastDiff ? fenced(packet.lastDiff) : '(no changes)'}`,
  ];
  const sections = [
    `## Goal\n${input.goal}`,
    `## Test command\n${formatCommand(input.testCommand)}`,
    `## The failed subtask\n${subtask.join('\n')}`,
    `## How it failed\n${failure.join('\n\n')}`,
  ];
  if (input.earlier.length > 0) {
    const lines = input.earlier.map(
      (e) => `- attempt ${e.attempt} (${e.reason}): ${e.decision || 'undecided'} — ${e.decisionReason}${e.hint ? ` (hint: ${e.hint})` : ''}`,
    );
    sections.push(`## Earlier escalations of this subtask\n${lines.join('\n')}`);
  }
  if (input.otherSubtasks.length > 0) {
    sections.push(`## The task's other subtasks\n${input.otherSubtasks.map((s) => `- ${s.id}: ${s.title} (${s.status})`).join('\n')}`);
  }
  return [
    { role: 'system', content: ESCALATION_SYSTEM },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

/** The reply format the reflect prompt asks for. */
export const REFLECT_REPLY_FORMAT = `{"lesson": "what a future agent in this repository should know or do, in one to three sentences"}`;

const REFLECT_SYSTEM = [
  'You are Orion, the lead engineer of a team of autonomous coding agents.',
  'One of your agents failed a subtask and escalated it; a later attempt fixed it: the fix is merged and the repository\'s tests pass.',
  'Write the lesson a future agent working in this repository should be told so it does not make the same mistake:',
  'one to three sentences, concrete (name the files, tests, commands or conventions involved), about this repository and its code rather than about the agent.',
  'The lesson is filed under the topic given (the failure\'s signature, which you do not choose): lessons on the same topic are',
  'recognised as duplicates (merged) or contradictions (the newer, verified one replaces the older), so word it to stand for that failure.',
  'Reply with JSON only, exactly in this shape:',
  REFLECT_REPLY_FORMAT,
].join('\n');

/** What the reflect prompt is built from: the failure, the fix that was verified, and the topic the lesson is filed under. */
export interface ReflectPromptInput {
  goal: string;
  project: string;
  packet: FailurePacket;
  /** The failed result's reason, as the executor put it. */
  failureReason: string | undefined;
  failingTests: readonly string[];
  errorLine: string | undefined;
  /** What fixed it, in a few words (`hint: …`, `takeover …`, `replan into …`). */
  fix: string;
  /** The passing test run and the merged commit. */
  testCommand: readonly string[];
  mergedSha: string;
  filesChanged: readonly string[];
  /** The topic the lesson is filed under: the failure's signature (`reflex-rule.ts` `topicOf`), never the model's. */
  topic: string;
  /** Longest failing output quoted. @default 2000 */
  maxOutputTail?: number;
}

/** The messages asking the strategic model to word the lesson of a verified fix. */
export function buildReflectPrompt(input: ReflectPromptInput): PromptMessage[] {
  const { packet } = input;
  const maxTail = input.maxOutputTail ?? 2000;
  const output = packet.failingTestOutput.trim();
  const failure = [
    `Reason: ${packet.reason}${input.failureReason ? ` — ${input.failureReason}` : ''}`,
    `Failing tests: ${input.failingTests.length > 0 ? input.failingTests.join(', ') : '(not named)'}`,
    ...(input.errorLine !== undefined ? [`Error: ${input.errorLine}`] : []),
    `The agent's own account:\n${packet.agentAccount || '(none)'}`,
    `Failing test output (end):\n${output ? fenced(output.length > maxTail ? `…${output.slice(-maxTail)}` : output) : '(none)'}`,
  ];
  const sections = [
    `## Goal\n${input.goal}`,
    `## Project\n${input.project}`,
    `## The subtask\nTitle: ${packet.subtask.title}\nInstructions:\n${packet.subtask.instructions}\nFiles: ${packet.subtask.files.length > 0 ? packet.subtask.files.join(', ') : '(none named)'}`,
    `## How it failed\n${failure.join('\n\n')}`,
    `## What fixed it\n${input.fix}`,
    `## Verified by\n\`${formatCommand(input.testCommand)}\` passed at ${input.mergedSha}; files changed: ${input.filesChanged.length > 0 ? input.filesChanged.join(', ') : '(none)'}`,
    `## Topic (fixed)\n${input.topic}`,
  ];
  return [
    { role: 'system', content: REFLECT_SYSTEM },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

/**
 * The conversation asking again after a reply that could not be used: the model's reply, then
 * what was wrong with it and the format once more.
 */
export function buildReAskMessages(messages: readonly PromptMessage[], reply: string, problem: string, replyFormat: string): PromptMessage[] {
  return [
    ...messages,
    { role: 'assistant', content: reply },
    {
      role: 'user',
      content: `Your reply could not be used: ${problem}\nReply again with JSON only, exactly in this shape:\n${replyFormat}`,
    },
  ];
}
