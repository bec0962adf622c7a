/**
 * Detection of a repository's test command from its manifest files, for a task submitted
 * without one. Pure: the caller reads the files and passes their text.
 */

/** The manifest files detection looks at (any may be absent). */
export interface TestCommandSources {
  /** Text of `package.json`. */
  packageJson?: string | undefined;
  /** Text of the first of `GNUmakefile`, `makefile`, `Makefile` that exists (make's order). */
  makefile?: string | undefined;
}

/** The outcome of detection: the command, or why none was found. */
export type TestCommandDetection = { ok: true; command: string[]; source: string } | { ok: false; reason: string };

/** Makefile names in the order GNU make looks for them. */
export const MakefileNames = ['GNUmakefile', 'makefile', 'Makefile'] as const;

// `npm init` writes this placeholder; running it always fails, so it is no test command.
const NPM_PLACEHOLDER = /no test specified/i;

function packageJsonTest(text: string): { found: boolean; note?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { found: false, note: 'package.json is not valid JSON' };
  }
  const scripts = (parsed as { scripts?: unknown } | null)?.scripts;
  const test = typeof scripts === 'object' && scripts !== null ? (scripts as Record<string, unknown>).test : undefined;
  if (typeof test !== 'string' || test.trim() === '') return { found: false, note: 'package.json has no scripts.test' };
  if (NPM_PLACEHOLDER.test(test)) return { found: false, note: 'package.json scripts.test is the npm placeholder' };
  return { found: true };
}

/**
 * True when the Makefile defines a `test` target. A rule line starts in column 0 and has
 * targets before a single `:`; `test := …` and `test ::= …` are variable assignments, not
 * rules, and `.PHONY: test` only declares the target.
 */
export function makefileHasTestTarget(text: string): boolean {
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || /^[\s#]/.test(line)) continue;
    const match = /^([^:=#]+)::?(?![:=])/.exec(line);
    if (!match?.[1]) continue;
    const targets = match[1].trim().split(/\s+/);
    if (targets.includes('.PHONY')) continue;
    if (targets.includes('test')) return true;
  }
  return false;
}

/**
 * Picks the test command: `npm test` when package.json has a real `scripts.test`, else
 * `make test` when a Makefile has a `test:` target; package.json wins because a Makefile in a
 * Node project usually wraps npm anyway.
 */
export function detectTestCommand(sources: TestCommandSources): TestCommandDetection {
  const notes: string[] = [];
  if (sources.packageJson !== undefined) {
    const pkg = packageJsonTest(sources.packageJson);
    if (pkg.found) return { ok: true, command: ['npm', 'test'], source: 'package.json scripts.test' };
    if (pkg.note) notes.push(pkg.note);
  } else {
    notes.push('no package.json');
  }
  if (sources.makefile !== undefined) {
    if (makefileHasTestTarget(sources.makefile)) return { ok: true, command: ['make', 'test'], source: 'Makefile test target' };
    notes.push('the Makefile has no test target');
  } else {
    notes.push('no Makefile');
  }
  return { ok: false, reason: notes.join(', ') };
}
