/**
 * `maestro intent`: classifies task goals offline with `@maestro/intent` — no services, no
 * network — and prints one JSON object per goal: `{"text","intent","confidence","reason"}`.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { classifyIntent } from '@maestro/intent';

/** The usage text of `maestro intent`. */
export const intentUsage = `usage: maestro intent "<goal text>"
       maestro intent [-] < goals.txt

  Classifies a task goal as plan, code, fix, refactor, test, docs, explain, review or ops,
  locally and deterministically, and prints {"text","intent","confidence","reason"} as one
  JSON line. With no argument, or "-", classifies each non-empty line of standard input.
  Use "--" before a goal that starts with "-".`;

/** The streams `maestro intent` reads and writes; injected by tests. */
export interface IntentCommandIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/**
 * Runs `maestro intent` with the arguments after `intent`. Resolves to the exit code: 0 when
 * every goal was classified, 2 for a usage error (unknown option, several arguments, a blank
 * goal), with the reason on stderr.
 */
export async function runIntentCommand(
  args: readonly string[],
  io: IntentCommandIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const usageError = (message: string): number => {
    io.stderr.write(`maestro intent: ${message}\n${intentUsage}\n`);
    return 2;
  };
  if (args[0] === '-h' || args[0] === '--help') {
    io.stdout.write(`${intentUsage}\n`);
    return 0;
  }
  const goals = args[0] === '--' ? args.slice(1) : args;
  if (goals !== args && goals.length === 0) return usageError('expected a goal after "--"');
  if (goals === args && goals.length === 1 && goals[0] !== '-' && goals[0]!.startsWith('-')) {
    return usageError(`unknown option ${goals[0]!}`);
  }
  if (goals.length > 1) return usageError(`expected one goal, got ${goals.length} arguments: quote the goal text`);

  const goal = goals[0];
  if (goal !== undefined && !(goal === '-' && goals === args)) {
    if (goal.trim() === '') return usageError('the goal text is empty');
    await writeLine(io.stdout, classify(goal));
    return 0;
  }
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    await writeLine(io.stdout, classify(line));
  }
  return 0;
}

function classify(text: string): string {
  const { intent, confidence, reason } = classifyIntent(text);
  return JSON.stringify({ text, intent, confidence, reason });
}

/**
 * Writes one line and, when the stream's buffer is full, waits until it drains (or closes or
 * fails: a reader that went away, as with `| head`, must not hang the command).
 */
async function writeLine(out: Writable, line: string): Promise<void> {
  if (out.write(`${line}\n`)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      out.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    out.on('drain', done).on('close', done).on('error', done);
  });
}
