/**
 * Line splitting shared by the parsers and editors, so every one of them counts lines the same way.
 */

/**
 * Splits text into lines that keep their terminators (`\n`, `\r\n` or a lone `\r`), so joining
 * the pieces gives the text back byte for byte; a final line without a terminator is kept too.
 *
 * @example
 * splitLines('a\nb\r\nc'); // ['a\n', 'b\r\n', 'c']
 */
export function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 /* \n */) {
      lines.push(text.slice(start, i + 1));
      start = i + 1;
    } else if (ch === 13 /* \r */) {
      const end = text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
      lines.push(text.slice(start, end));
      start = end;
      i = end - 1;
    }
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** A line without its terminator. */
export function stripLineEnd(line: string): string {
  return line.replace(/\r?\n$|\r$/, '');
}
