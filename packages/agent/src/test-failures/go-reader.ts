/**
 * Reads `go test`: `--- FAIL: TestName (0.00s)` (subtests as `TestName/sub`). The output is read
 * only when every `FAIL <package>` line is preceded by a `--- FAIL` naming a test, and no package
 * failed to build or panicked.
 */
import type { FormatReading } from './section.js';

const GO_RESULT = /^(ok|FAIL|\?)\s*\t(\S+)(.*)$/;

/** The section of `go test` output in `lines`, or why it cannot be read. */
export function readGo(lines: readonly string[]): FormatReading {
  const start = lines.findIndex((line) => /^\s*(?:=== RUN|--- FAIL:)/.test(line) || GO_RESULT.test(line));
  if (start < 0) return { sections: [] };
  const names: string[] = [];
  let unreported = 0;
  let end = start;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const failure = /^\s*--- FAIL: (\S+)/.exec(line);
    if (failure?.[1]) {
      names.push(failure[1]);
      unreported += 1;
      end = i;
      continue;
    }
    if (/^(?:panic|fatal error): /.test(line)) return { unknown: `a Go test binary panicked ("${line.trim()}"), so the tests after it did not run` };
    if (/^\s*=== RUN/.test(line)) end = i;
    // The bare `FAIL` after a package's failures and at the very end of `go test ./...`.
    if (/^FAIL\s*$/.test(line) && i > start) end = i;
    const result = GO_RESULT.exec(line);
    if (!result) continue;
    end = i;
    if (result[1] === 'FAIL') {
      if (/\[(?:build|setup) failed\]/.test(result[3] ?? '')) return { unknown: `the Go package ${result[2]} did not build, so its tests have no names` };
      if (unreported === 0) return { unknown: `the Go package ${result[2]} failed without a "--- FAIL" line naming a test` };
    }
    unreported = 0;
  }
  if (unreported > 0) return { unknown: 'the Go output names failing tests but has no "FAIL <package>" line after them (cut off, or the runner crashed)' };
  return { sections: [{ start, end, names }] };
}
