/**
 * Reads Mocha's spec reporter: the numbered entries after `N failing` (`1) Suite` … `name:`),
 * named `Suite › name`. A section (the listing, the `N passing` summary and the entries) is read
 * only when the entries agree with the `N failing` count.
 */
import type { FormatReading, RunnerSection } from './section.js';

/** The sections of Mocha output in `lines`, or why they cannot be read. */
export function readMocha(lines: readonly string[]): FormatReading {
  const sections: RunnerSection[] = [];
  let previousEnd = -1;
  for (let p = 0; p < lines.length; p++) {
    if (!/^\s*\d+ passing \(/.test(lines[p] ?? '')) continue;
    // The listing above the summary belongs to the section (a test's console output sits in it).
    let start = p;
    for (let i = p - 1; i > previousEnd; i--) if (/^\s+(?:✔|✓|\d+\)|-) /.test(lines[i] ?? '')) start = i;
    let end = p;
    let failing: number | undefined;
    for (let i = p + 1; i < lines.length && i <= p + 3; i++) {
      const count = /^\s*(\d+) (pending|failing)\b/.exec(lines[i] ?? '');
      if (!count) continue;
      end = i;
      if (count[2] === 'failing') failing = Number(count[1]);
    }
    const names: string[] = [];
    if (failing !== undefined) {
      // Entries are numbered 1, 2, …; mocha indents everything, so a line at column 0 ends the section.
      for (let i = end + 1; i < lines.length; i++) {
        const line = lines[i] ?? '';
        if (line.trim() !== '' && !/^\s/.test(line)) break;
        end = i;
        const entry = /^\s{1,4}(\d+)\) (.*)$/.exec(line);
        if (!entry || Number(entry[1]) !== names.length + 1) continue;
        // The title runs over lines (one per describe level) up to the one that ends with ':'.
        const parts: string[] = [];
        let text = (entry[2] ?? '').trim();
        for (;;) {
          if (text.endsWith(':')) {
            parts.push(text.slice(0, -1).trim());
            break;
          }
          parts.push(text);
          i += 1;
          const next = lines[i];
          if (next === undefined || next.trim() === '') return { unknown: `the Mocha failure "${parts.join(' › ')}" has no closing title line` };
          text = next.trim();
        }
        end = i;
        names.push(parts.filter((part) => part !== '').join(' › '));
      }
      if (names.length !== failing) return { unknown: `Mocha's summary counts ${failing} failing tests but ${names.length} are named` };
    }
    sections.push({ start, end, names });
    previousEnd = end;
    p = end;
  }
  return { sections };
}
