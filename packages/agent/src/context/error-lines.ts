/**
 * The lines of a command's output (or of a message a person pasted) that report an error: what
 * a condensation must not lose, because the next attempt depends on it. Read by shape, for any
 * language: exceptions (`TypeError: …`, `E   KeyError: 'model'`, `AssertionError [ERR_ASSERTION]: …`),
 * pytest assertion lines (`E   assert 1 == 2`), test runner failures (`FAILED path::name`,
 * `FAIL: name`, `--- FAIL: TestX`, `FAIL  file > name`), compiler errors (`error TS2345: …`,
 * `file.c:3:1: error: …`, `error[E0308]: …`), and tool errors (`error: …`, `fatal: …`,
 * `ERROR: …`, `npm ERR! …`, `panic: …`). Warnings are not errors and are left out.
 */

/** An error line longer than this is cut (a fact must stay small). */
export const ERROR_LINE_MAX_CHARS = 300;

const ERROR_LINE_PATTERNS: readonly RegExp[] = [
  // Exceptions, optionally module-qualified, optionally behind pytest's `E   ` gutter.
  /^(?:E\s+)?(?:[A-Za-z_][\w]*\.)*[A-Z]?\w*(?:Error|Exception|Exit|Interrupt)(?:\s*\[[^\]]*\])?:\s*\S/,
  // pytest's assertion rewriting.
  /^E\s+assert\s+\S/,
  // Test runners.
  /^FAILED\s+\S/,
  /^FAIL:\s*\S/,
  /^FAIL\s+\S/,
  /^--- FAIL:\s*\S/,
  /^ERROR:\s*\S/,
  /^ERROR\s+\S+::/,
  /^not ok \d+\s/,
  // Compilers and tools.
  /\berror TS\d+:/,
  /^\S+:\d+(?::\d+)?:\s*(?:fatal )?error:\s*\S/,
  /^error(?:\[\w+\])?:\s*\S/,
  /^fatal:\s*\S/,
  /^panic:\s*\S/,
  /^npm ERR!\s*\S/,
  /^Segmentation fault\b/,
];

/** Whether `line` (already trimmed) reports an error. */
export function isErrorLine(line: string): boolean {
  return ERROR_LINE_PATTERNS.some((pattern) => pattern.test(line));
}

/** The error lines of `text`, trimmed, cut to {@link ERROR_LINE_MAX_CHARS}, each once, in order. */
export function errorLines(text: string): string[] {
  const seen = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    // `Error: Traceback (most recent call last):` announces an error; the line that names it comes later.
    if (line.length < 6 || !isErrorLine(line) || line.includes('Traceback (most recent call last)')) continue;
    seen.add(line.length > ERROR_LINE_MAX_CHARS ? line.slice(0, ERROR_LINE_MAX_CHARS) : line);
  }
  return [...seen];
}
