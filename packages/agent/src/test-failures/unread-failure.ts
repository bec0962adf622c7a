/**
 * Reads what no runner reader placed in a section, for signs of a failure: a stack trace, a
 * Python traceback, a Go panic, a crash, or a failure mark, `FAIL` line or failure count of a
 * runner the readers do not know (`3 examples, 1 failure`, `test result: FAILED. … 1 failed`).
 * Any of them makes the names unknown, since the readers cannot have counted that failure.
 */
import type { RunnerSection } from './section.js';

/**
 * Signs of a failure outside every section a reader understood: another runner, or a crash
 * before or after the tests. Any of them makes the names unknown.
 */
const UNREAD_FAILURE_SIGNS: ReadonlyArray<[RegExp, string]> = [
  [/^\s+at \S.*(?::\d+(?::\d+)?\)?|\(native\)|\(<anonymous>\))\s*$/, 'a JavaScript stack trace'],
  [/^Traceback \(most recent call last\):/, 'a Python traceback'],
  [/^(?:panic|fatal error): /, 'a Go panic'],
  [/Segmentation fault|core dumped|^Killed\b|^Aborted\b|^Bus error\b|^FATAL ERROR:/, 'a crash'],
  // Failure marks of the formats read here, where no reader placed them in a section.
  [/^\s*(?:not ok \d+|--- FAIL:|[✖✕×●] )/, 'a test failure mark outside the runner output it belongs to'],
  [/^\s*(?:FAIL|FAILED|FAILURES!|ERROR)\b/, 'a failure line of a runner this reader does not know'],
  [/\b[1-9]\d*\s+(?:tests?\s+|examples?\s+)?(?:failed|failing|failures?|fail|errors?)\b/i, 'a failure count of a runner this reader does not know'],
  [/\b(?:failures|failed|errors)\s*[:=]\s*[1-9]/i, 'a failure count of a runner this reader does not know'],
];

/** The first line outside `sections` that looks like a failure, described for a person. */
export function unreadFailure(lines: readonly string[], sections: readonly RunnerSection[]): string | undefined {
  for (const [at, line] of lines.entries()) {
    if (sections.some((section) => at >= section.start && at <= section.end)) continue;
    const sign = UNREAD_FAILURE_SIGNS.find(([pattern]) => pattern.test(line));
    if (sign) return `line ${at + 1} outside the test runner output this reader understood looks like ${sign[1]}: "${line.trim().slice(0, 200)}"`;
  }
  return undefined;
}
