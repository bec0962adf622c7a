/**
 * Which files an assistant turn read or wrote, read from its tool calls and its text: the
 * workspace tools (`fs.read`, `fs.write`, `fs.edit`, `fs.apply_patch`), commands run through a
 * shell-like tool (`exec`'s `argv`, or a `command` string: `cat`, `sed -n`, `head`/`tail`/`nl`
 * read; `sed -i`, `perl -i`, `>`/`>>` redirections, `tee`, `cp`/`mv` targets, and
 * `open(path, 'w')` / `.write_text` in inline scripts write), and edits written in the reply
 * (SEARCH/REPLACE blocks, unified diffs). Used twice: the files the agent edited are pinned, and
 * a read superseded by a later read or write of the same file is dropped from the request.
 *
 * This is a reading of commands, not a shell: it is deliberately conservative. A read is only
 * `full` when the command prints the whole file (`cat path`, `fs.read` without a range);
 * anything narrower (a line range, a pipe into `head`) is a partial read, superseded only by a
 * write, a full read or the very same command.
 */
import type { ChatMessage, ToolCall } from '@maestro/llm';
import { extractEdits } from '../edits/reply-edits.js';

/** A file an assistant turn read or wrote. */
export interface FileOperation {
  kind: 'read' | 'write';
  /** The path as written, without a leading `./`. */
  path: string;
  /** The tool call it came from (absent for edits written in the reply text). */
  callId?: string;
  /** For reads: `full`, or a key naming the part read (two partial reads with the same key read the same part). */
  range?: string;
}

/** Programs that print a whole file given as an argument. */
const FULL_READERS = new Set(['cat', 'nl', 'less', 'more', 'bat']);
/** Programs that print part of a file. */
const PARTIAL_READERS = new Set(['head', 'tail']);
const NOT_FILES = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '-']);

/** `./a/b.py` → `a/b.py`; quotes around it removed. */
export function normalizePath(path: string): string {
  return path.replace(/^['"]|['"]$/g, '').replace(/^(\.\/)+/, '');
}

/** Whether two paths name the same file: equal, or one is the other under some directory (`/testbed/a.py`, `a.py`). */
export function samePath(a: string, b: string): boolean {
  return a === b || a.endsWith(`/${b}`) || b.endsWith(`/${a}`);
}

/** Whether a shell word can be a file path (no options, variables, globs or substitutions). */
function looksLikePath(word: string): boolean {
  return word !== '' && !word.startsWith('-') && !/[$`*?{}()<>|;&\s]/.test(word) && !NOT_FILES.has(word) && /[\w]/.test(word);
}

/**
 * Splits a command line into simple commands (at unquoted `&&`, `||`, `;`, `|`, newlines) of
 * words, with quotes removed; a pipe is kept as a `|` word so pipelines can be told apart.
 * Heredoc bodies are taken out first (their lines are data, not commands).
 */
export function shellWords(command: string): string[][] {
  const withoutHeredocs = command.replace(/<<-?\s*(['"]?)(\w+)\1[^\n]*\n[\s\S]*?\n\s*\2\s*(?=\n|$)/g, (match) => match.slice(0, match.indexOf('\n')));
  const commands: string[][] = [[]];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  const current = (): string[] => commands[commands.length - 1] as string[];
  const endWord = (): void => {
    if (inWord) current().push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (pipe: boolean): void => {
    endWord();
    if (pipe) current().push('|');
    else if (current().length > 0) commands.push([]);
  };
  for (let i = 0; i < withoutHeredocs.length; i++) {
    const ch = withoutHeredocs[i] as string;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < withoutHeredocs.length) word += withoutHeredocs[++i];
      else word += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < withoutHeredocs.length) {
      const next = withoutHeredocs[++i] as string;
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
    } else if (ch === '\n' || ch === ';') {
      endCommand(false);
    } else if (ch === '&' && withoutHeredocs[i + 1] === '&') {
      i++;
      endCommand(false);
    } else if (ch === '|' && withoutHeredocs[i + 1] === '|') {
      i++;
      endCommand(false);
    } else if (ch === '|') {
      endCommand(true);
    } else if (ch === '>' || ch === '<') {
      // `2>` and `2>&1`: the descriptor belongs to the operator.
      const fd = inWord && /^\d+$/.test(word) ? word : '';
      if (fd !== '') {
        word = '';
        inWord = false;
      }
      endWord();
      let op = fd + ch;
      while (withoutHeredocs[i + 1] === '>' || withoutHeredocs[i + 1] === '&' || withoutHeredocs[i + 1] === '<') op += withoutHeredocs[++i];
      current().push(op);
    } else if (ch === ' ' || ch === '\t') {
      endWord();
    } else {
      word += ch;
      inWord = true;
    }
  }
  endWord();
  return commands.filter((words) => words.length > 0);
}

/** The pipeline stages of a simple command (split at `|` words). */
export function stages(words: readonly string[]): string[][] {
  const out: string[][] = [[]];
  for (const word of words) {
    if (word === '|') out.push([]);
    else (out[out.length - 1] as string[]).push(word);
  }
  return out.filter((stage) => stage.length > 0);
}

/** Options that take the next word as their value, by program. */
const VALUE_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  sed: ['-e', '-f', '--expression', '--file'],
  perl: ['-e', '-E'],
  head: ['-n', '-c'],
  tail: ['-n', '-c'],
};

/** Whether `option` of `program` takes the next word as its value (`sed -e script`, `perl -pe script`). */
function takesValue(program: string, option: string): boolean {
  const name = program.replace(/^.*\//, '');
  return (VALUE_OPTIONS[name] ?? []).includes(option) || ((name === 'sed' || name === 'perl') && /^-[a-zA-Z]*e$/.test(option));
}

/** Arguments of a stage that are not options (nor their values), redirections or redirection targets. */
function operands(stage: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < stage.length; i++) {
    const word = stage[i] as string;
    if (/^\d*[<>]/.test(word) || takesValue(stage[0] ?? '', word)) {
      i++;
      continue;
    }
    if (!word.startsWith('-')) out.push(word);
  }
  return out;
}

/** Files written by redirections (`> f`, `>> f`, not `2> f`) in a stage. */
export function redirectTargets(stage: readonly string[]): string[] {
  const out: string[] = [];
  stage.forEach((word, i) => {
    if ((word === '>' || word === '>>' || word === '>|') && stage[i + 1] !== undefined) out.push(stage[i + 1] as string);
  });
  return out;
}

/** Files an inline script writes: `open('f', 'w')`, `open("f", mode="a")`, `Path('f').write_text(`. */
function scriptWrites(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/\bopen\(\s*(?:r|f)?(['"])([^'"\n]+)\1\s*,\s*(?:mode\s*=\s*)?(['"])[^'"]*[wa+][^'"]*\3/g)) out.push(match[2] as string);
  for (const match of text.matchAll(/\bPath\(\s*(['"])([^'"\n]+)\1\s*\)\s*\.write_(?:text|bytes)\(/g)) out.push(match[2] as string);
  return out;
}

/** The read and write operations of one shell command line. */
export function commandFileOperations(command: string): Array<Omit<FileOperation, 'callId'>> {
  const ops: Array<Omit<FileOperation, 'callId'>> = [];
  const add = (kind: FileOperation['kind'], raw: string, range?: string): void => {
    const path = normalizePath(raw);
    if (!looksLikePath(path)) return;
    ops.push(range === undefined ? { kind, path } : { kind, path, range });
  };
  for (const words of shellWords(command)) {
    const pipeline = stages(words);
    const piped = pipeline.length > 1;
    pipeline.forEach((stage, index) => {
      const program = (stage[0] ?? '').replace(/^.*\//, '');
      const args = operands(stage);
      redirectTargets(stage).forEach((target) => add('write', target));
      const inPlace = stage.some((word) => /^-i/.test(word) || word === '--in-place' || /^-[a-hj-z]*i/.test(word));
      if ((program === 'sed' || program === 'perl') && inPlace) {
        const scriptGiven = stage.some((word) => takesValue(program, word));
        args.slice(scriptGiven ? 0 : 1).forEach((file) => add('write', file));
      } else if (program === 'sed' && stage.includes('-n') && index === 0) {
        const script = args[0] ?? '';
        args.slice(1).forEach((file) => add('read', file, `sed -n ${script}${piped ? ` | ${words.join(' ')}` : ''}`));
      } else if (program === 'tee') {
        args.forEach((file) => add('write', file));
      } else if ((program === 'cp' || program === 'mv') && args.length >= 2) {
        add('write', args[args.length - 1] as string);
      } else if (index === 0 && FULL_READERS.has(program) && redirectTargets(stage).length === 0) {
        args.forEach((file) => add('read', file, piped ? words.join(' ') : 'full'));
      } else if (index === 0 && PARTIAL_READERS.has(program)) {
        args.forEach((file) => add('read', file, words.join(' ')));
      }
    });
  }
  scriptWrites(command).forEach((file) => add('write', file));
  return ops;
}

/** The arguments of a call as an object (empty when they do not parse). */
export function callArguments(call: ToolCall): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(call.argumentsJson);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The command a shell-like call runs: its `command`/`cmd`/`script` string, or its `argv` joined with quotes. */
export function callCommand(call: ToolCall): string | undefined {
  const args = callArguments(call);
  for (const key of ['command', 'cmd', 'script']) {
    const value = args[key];
    if (typeof value === 'string') return value;
  }
  const argv = args.argv;
  if (Array.isArray(argv) && argv.every((word) => typeof word === 'string')) {
    return (argv as string[]).map((word) => (/^[\w./=:@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
  }
  return undefined;
}

/** Paths named by `+++ b/path` headers of a unified diff. */
function patchTargets(patch: string): string[] {
  const out: string[] = [];
  for (const match of patch.matchAll(/^\+\+\+ (?:b\/)?(\S+)/gm)) if (match[1] !== '/dev/null') out.push(match[1] as string);
  return out;
}

/** The file operations of one tool call. */
export function callFileOperations(call: ToolCall): FileOperation[] {
  const args = callArguments(call);
  const path = typeof args.path === 'string' ? normalizePath(args.path) : undefined;
  const withCall = (ops: Array<Omit<FileOperation, 'callId'>>): FileOperation[] => ops.map((op) => ({ ...op, callId: call.id }));
  switch (call.name) {
    case 'fs.read': {
      if (path === undefined) return [];
      const ranged = args.startLine !== undefined || args.endLine !== undefined;
      return withCall([{ kind: 'read', path, range: ranged ? `lines ${String(args.startLine ?? 1)}-${String(args.endLine ?? '')}` : 'full' }]);
    }
    case 'fs.write':
    case 'fs.edit':
      return path === undefined ? [] : withCall([{ kind: 'write', path }]);
    case 'fs.apply_patch':
      return typeof args.patch === 'string' ? withCall(patchTargets(args.patch).map((file) => ({ kind: 'write', path: normalizePath(file) }))) : [];
    default: {
      const command = callCommand(call);
      return command === undefined ? [] : withCall(commandFileOperations(command));
    }
  }
}

/** Files changed by edits written in a reply's text (SEARCH/REPLACE blocks, unified diffs); none when they cannot be read. */
export function textEditTargets(content: string): string[] {
  if (!content.includes('<<<<<<<') && !content.includes('+++ ')) return [];
  const found = extractEdits(content, { formats: ['search-replace', 'unified-diff'], matchBasenames: false });
  return found.ok ? [...new Set(found.value.edits.map((edit) => normalizePath(edit.path)))] : [];
}

/** Programs that may follow a reader in a pipeline and only narrow what it printed. */
const NARROWERS = new Set(['head', 'tail', 'sed', 'grep', 'nl', 'cat', 'cut', 'awk']);
/** Commands that change nothing and print nothing of note before a read. */
const NEUTRAL = new Set(['cd', 'pwd', 'true']);

/**
 * Whether a call only reads files (`fs.read`, or commands such as `cd /repo && cat a.py` or
 * `sed -n '1,40p' a.py | grep def`): its output then is file content, which a later read or
 * write of the same file makes stale.
 */
export function isPureRead(call: ToolCall): boolean {
  if (call.name === 'fs.read') return true;
  const ops = callFileOperations(call);
  if (ops.length === 0 || ops.some((op) => op.kind !== 'read')) return false;
  const command = callCommand(call);
  if (command === undefined) return false;
  return shellWords(command).every((words) =>
    stages(words).every((stage, index) => {
      const program = (stage[0] ?? '').replace(/^.*\//, '');
      if (index > 0) return NARROWERS.has(program) && !stage.some((word) => /^-i/.test(word));
      if (NEUTRAL.has(program)) return true;
      if (program === 'sed') return stage.includes('-n') && !stage.some((word) => /^-i/.test(word));
      return (FULL_READERS.has(program) || PARTIAL_READERS.has(program)) && redirectTargets(stage).length === 0;
    }),
  );
}

/** Every file operation of an assistant message: its tool calls', then its text edits (writes). */
export function fileOperationsOf(message: ChatMessage): FileOperation[] {
  if (message.role !== 'assistant') return [];
  const ops = (message.toolCalls ?? []).flatMap(callFileOperations);
  for (const path of textEditTargets(message.content)) ops.push({ kind: 'write', path });
  return ops;
}
