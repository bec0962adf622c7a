/**
 * A JSON repairer for what language models write where JSON is expected: a recursive-descent
 * reader over the JSON grammar that, wherever the grammar is broken, applies the repair a
 * reader would agree with (quote the key, close the bracket, drop the comment …) and writes
 * valid JSON text as it goes. Whitespace is kept where it was, so the result reads like the
 * input.
 *
 * The hard part is strings: a quote inside a string may be a forgotten escape (`"24" screen"`)
 * or a string whose end quote is missing (`"b,"c":1`). A candidate end quote is accepted only
 * when what follows it fits where the string stands (see `judgeClose`); otherwise it is kept as
 * text, or the string is cut at a preceding `,`/`+` when the rest clearly starts the next item.
 */
import { JsonRepairError } from './json-repair-error.js';

/** What a value sits in; a string's end quote is judged by what may follow in that place. */
type Container = 'object' | 'array' | 'call';
type StringRole = 'key' | 'objectValue' | 'arrayValue' | 'callValue' | 'root';

/** The outcome of looking at a candidate end quote. */
type CloseVerdict = 'accept' | 'reject' | { contentEnd: number; resume: number };

const QUOTES = '"\'`´‘’“”';
// Typographic quotes pair loosely (`“a”`, `` `a´ ``, `‘a'`); ASCII quotes only close themselves,
// so `"Rounded “ quote"` and `'it’s'` keep their inner quote.
const DOUBLE_CLOSERS = '“”"';
const SINGLE_CLOSERS = "‘’`´'";
const SPECIAL_WHITESPACE = '\u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u205f\u3000\ufeff';
const CONTROL_CHARACTERS_KEPT = '\b\f\n\r\t';
const SIMPLE_ESCAPES = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);
const KEYWORDS = new Map([
  ['true', 'true'],
  ['false', 'false'],
  ['null', 'null'],
  ['True', 'true'],
  ['False', 'false'],
  ['None', 'null'],
  ['undefined', 'null'],
]);
/** Deeper nesting is refused rather than risking the call stack (the reader is recursive). */
const MAX_DEPTH = 1000;
const WORD = /[A-Za-z_$][\w$]*/y;
const FENCE_LANGUAGE = /[\w+#.-]+/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const HEX_PREFIX = /^[0-9a-fA-F]*$/;

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isWhitespace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || (ch !== undefined && SPECIAL_WHITESPACE.includes(ch));
}

function isQuote(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && QUOTES.includes(ch);
}

function closersFor(opener: string): string {
  if (opener === '"' || opener === "'") return opener;
  return DOUBLE_CLOSERS.includes(opener) ? DOUBLE_CLOSERS : SINGLE_CLOSERS;
}

/** The end of a string that had no end quote: trailing blanks and a dangling ` +` go. */
function stripTail(content: string): string {
  const trimmed = content.trimEnd();
  return /\s\+$/.test(trimmed) ? trimmed.slice(0, -1).trimEnd() : trimmed;
}

/**
 * Turns almost-JSON into valid JSON text: missing or single/typographic quotes, unquoted keys
 * and words, trailing/leading/missing commas, missing colons, comments, truncated input
 * (closes strings, brackets, numbers like `2.`/`2e`), Python `True/False/None`, `undefined`,
 * unescaped quotes and control characters inside strings, invalid escapes, `"a" + "b"`,
 * markdown code fences, JSONP `cb(...)` and MongoDB `ObjectId(...)` wrappers, `...` ellipses,
 * numbers like `.5`, newline-delimited or comma-separated values (wrapped in an array), and
 * redundant closing brackets. Valid JSON comes back with the same value.
 *
 * Use it when `JSON.parse` has already failed on text a model wrote (tool-call arguments);
 * it guesses, so a repaired value deserves the same validation as any other input.
 *
 * @throws {JsonRepairError} when no reasonable reading exists (empty input, a missing key,
 * text after the value, an invalid `\u` escape or a raw NUL character in a string).
 * @example
 * repairJson("{name: 'x', tags: ['a' 'b'],}"); // '{"name": "x", "tags": ["a", "b"]}'
 */
export function repairJson(text: string): string {
  return new JsonRepairer(text).repair();
}

class JsonRepairer {
  private readonly text: string;
  private i = 0;
  /** Output written so far. */
  private readonly out: string[] = [];
  /** Whitespace read since the last token, held back so a comma or closer can go before it. */
  private ws = '';
  private readonly stack: Container[] = [];
  private lastSignificant: number | undefined;
  private firstBlockCommentAt: number | undefined;

  constructor(text: string) {
    this.text = text;
  }

  repair(): string {
    const text = this.text;
    this.skipWhitespace();
    this.skipOpeningFence();
    if (!this.parseValue()) this.failUnexpected();
    let newline = this.skipWhitespace();
    newline = this.skipTrailers() || newline;
    let commaAt: number | undefined;
    if (text[this.i] === ',') {
      commaAt = this.ws.length;
      this.i++;
      newline = this.skipWhitespace() || newline;
    }
    // `1,2,3` or one value per line (NDJSON, a MongoDB shell dump): the values become an array.
    // A trailing comma alone (`{},`) is dropped; two values side by side (`{}{}`) are an error.
    if (this.i < text.length && (commaAt !== undefined || newline) && this.startsValue(this.i)) {
      this.out.unshift('[\n');
      do {
        this.commitComma(commaAt ?? 0);
        if (!this.parseValue()) this.failUnexpected();
        commaAt = undefined;
        newline = this.skipWhitespace();
        if (text[this.i] === ',') {
          commaAt = this.ws.length;
          this.i++;
          newline = this.skipWhitespace() || newline;
        }
      } while (this.i < text.length && (commaAt !== undefined || newline) && this.startsValue(this.i));
      this.emitBeforeWhitespace('\n]');
      this.skipTrailers();
    }
    if (this.i < text.length) this.failUnexpected();
    return this.out.join('') + this.ws;
  }

  // ---- output ----

  private emit(token: string): void {
    this.out.push(this.ws, token);
    this.ws = '';
  }

  /** Writes a closer the input lacked right after the last token, before the held whitespace. */
  private emitBeforeWhitespace(token: string): void {
    this.out.push(token);
  }

  /** Puts a comma into the held whitespace: where one was read, or at 0 when it was missing. */
  private commitComma(at: number): void {
    this.ws = `${this.ws.slice(0, at)},${this.ws.slice(at)}`;
  }

  private fail(problem: string, position: number): never {
    throw new JsonRepairError(problem, position);
  }

  private failUnexpected(): never {
    const ch = this.text.codePointAt(this.i);
    if (ch === undefined) this.fail('Unexpected end of json string', this.i);
    this.fail(`Unexpected character ${JSON.stringify(String.fromCodePoint(ch))}`, this.i);
  }

  // ---- whitespace, comments, wrappers ----

  /** Skips whitespace and comments, keeping the whitespace (normalised) for the output. */
  private skipWhitespace(): boolean {
    const text = this.text;
    let newline = false;
    for (;;) {
      const ch = text[this.i];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
        if (ch === '\n' || ch === '\r') newline = true;
        this.ws += ch;
        this.i++;
      } else if (ch !== undefined && SPECIAL_WHITESPACE.includes(ch)) {
        this.ws += ' ';
        this.i++;
      } else if (ch === '/' && (text[this.i + 1] === '*' || text[this.i + 1] === '/')) {
        this.i = this.commentEnd(this.i);
      } else {
        return newline;
      }
    }
  }

  /** Where the comment starting at `p` ends (a line comment leaves its newline to be read). */
  private commentEnd(p: number): number {
    const text = this.text;
    if (text[p + 1] === '*') {
      const end = text.indexOf('*/', p + 2);
      return end === -1 ? text.length : end + 2;
    }
    const end = text.indexOf('\n', p + 2);
    return end === -1 ? text.length : end;
  }

  /** Looks past whitespace and comments from `p` without consuming anything. */
  private peek(p: number): { index: number; newline: boolean } {
    const text = this.text;
    let newline = false;
    for (;;) {
      const ch = text[p];
      if (isWhitespace(ch)) {
        if (ch === '\n' || ch === '\r') newline = true;
        p++;
      } else if (ch === '/' && (text[p + 1] === '*' || text[p + 1] === '/')) {
        p = this.commentEnd(p);
      } else {
        return { index: p, newline };
      }
    }
  }

  /** Skips `` ```json `` (also the `[```` / `{```` a model sometimes writes around it). */
  private skipOpeningFence(): void {
    const text = this.text;
    let p = this.i;
    if ((text[p] === '[' || text[p] === '{') && text.startsWith('```', p + 1)) p++;
    if (!text.startsWith('```', p)) return;
    p += 3;
    FENCE_LANGUAGE.lastIndex = p;
    const language = FENCE_LANGUAGE.exec(text)?.[0];
    if (language !== undefined) {
      const after = text[p + language.length];
      // Only a word followed by a line break or the JSON itself is a language tag: in
      // ```` ```true``` ```` the word is the value.
      if (after === undefined || isWhitespace(after) || after === '{' || after === '[') p += language.length;
    }
    this.i = p;
    this.skipWhitespace();
  }

  /** After the root value: a closing fence and redundant closing brackets are dropped. */
  private skipTrailers(): boolean {
    const text = this.text;
    let newline = false;
    for (;;) {
      if (text.startsWith('```', this.i)) this.i += 3;
      else if (text[this.i] === '}' || text[this.i] === ']') this.i++;
      else return newline;
      newline = this.skipWhitespace() || newline;
    }
  }

  /** True when the character at `p` can begin a value (used to detect a missing comma or colon). */
  private startsValue(p: number): boolean {
    const ch = this.text[p];
    return ch !== undefined && !',:]})'.includes(ch);
  }

  private isStringStart(p: number): boolean {
    const ch = this.text[p];
    return isQuote(ch) || (ch === '\\' && isQuote(this.text[p + 1]));
  }

  private isEllipsis(p: number): number {
    if (this.text.startsWith('...', p)) return 3;
    return this.text[p] === '…' ? 1 : 0;
  }

  private enter(kind: Container): void {
    if (this.stack.length >= MAX_DEPTH) this.fail(`Nested deeper than ${MAX_DEPTH} levels`, this.i);
    this.stack.push(kind);
  }

  private enclosedBy(kind: Container): boolean {
    return this.stack.slice(0, -1).includes(kind);
  }

  // ---- values ----

  private parseValue(): boolean {
    const ch = this.text[this.i];
    if (ch === undefined || !this.startsValue(this.i)) return false;
    if (ch === '{') return this.parseObject();
    if (ch === '[') return this.parseArray();
    if (this.isStringStart(this.i)) {
      this.emit(JSON.stringify(this.parseString(this.valueRole())));
      return true;
    }
    if (ch === '/' && this.parseRegex()) return true;
    if ((ch === '-' || ch === '.' || isDigit(ch)) && this.parseNumber()) return true;
    return this.parseCall() || this.parseKeyword() || this.parseUnquoted();
  }

  private valueRole(): StringRole {
    switch (this.stack.at(-1)) {
      case 'object':
        return 'objectValue';
      case 'array':
        return 'arrayValue';
      case 'call':
        return 'callValue';
      default:
        return 'root';
    }
  }

  private parseObject(): boolean {
    const text = this.text;
    this.enter('object');
    this.emit('{');
    this.i++;
    let first = true;
    let commaAt: number | undefined;
    for (;;) {
      this.skipWhitespace();
      const ch = text[this.i];
      if (ch === undefined) {
        this.emitBeforeWhitespace('}');
        break;
      }
      if (ch === '}') {
        this.emit('}');
        this.i++;
        break;
      }
      if (ch === ']' || (ch === ')' && this.enclosedBy('call'))) {
        // A mismatched closer: if it belongs to an enclosing container, only this object
        // was left open; otherwise it was meant as `}`.
        if (ch === ')' || this.enclosedBy('array')) this.emitBeforeWhitespace('}');
        else {
          this.emit('}');
          this.i++;
        }
        break;
      }
      if (ch === ',') {
        // A leading or doubled comma is dropped; a trailing one is never committed.
        if (!first && commaAt === undefined) commaAt = this.ws.length;
        this.i++;
        continue;
      }
      const ellipsis = this.isEllipsis(this.i);
      if (ellipsis > 0) {
        this.i += ellipsis;
        continue;
      }
      if (ch === '{' || ch === '[') {
        // A value where a key belongs (`[{"i":1{"i":2}]`): this object was never closed.
        this.emitBeforeWhitespace('}');
        break;
      }
      if (!first) this.commitComma(commaAt ?? 0);
      this.parseKey();
      this.skipWhitespace();
      if (text[this.i] === ':') {
        this.emit(':');
        this.i++;
      } else if (this.i >= text.length || this.startsValue(this.i)) {
        this.emit(':');
      } else {
        this.fail('Colon expected', this.i);
      }
      this.skipWhitespace();
      if (!this.parseValue()) this.emit('null');
      first = false;
      commaAt = undefined;
    }
    this.stack.pop();
    return true;
  }

  private parseKey(): void {
    const text = this.text;
    if (this.isStringStart(this.i)) {
      this.emit(JSON.stringify(this.parseString('key')));
      return;
    }
    const start = this.i;
    let p = start;
    while (p < text.length) {
      const ch = text[p]!;
      if (':,{}[]()\n\r"'.includes(ch)) break;
      // `{a 'b'}`: a quote after a blank starts the value; `{it's: 1}` keeps its apostrophe.
      if (isQuote(ch) && isWhitespace(text[p - 1])) break;
      if (ch === '/' && (text[p + 1] === '*' || text[p + 1] === '/')) break;
      p++;
    }
    let end = p;
    while (end > start && isWhitespace(text[end - 1])) end--;
    if (end === start) this.fail('Object key expected', start);
    // Words with blanks are one key only before a colon (`{first name: 1}`); in `{a true}`
    // the key is `a` and its colon is missing.
    if (text[this.peek(end).index] !== ':') {
      const blank = text.slice(start, end).search(/\s/);
      if (blank > 0) end = p = start + blank;
    }
    this.i = end;
    // `{a":1}`: the key lost its opening quote; its closing one is not a value.
    if (end === p && text[p] === '"') this.i++;
    this.emit(JSON.stringify(text.slice(start, end)));
  }

  private parseArray(): boolean {
    const text = this.text;
    this.enter('array');
    this.emit('[');
    this.i++;
    let first = true;
    let commaAt: number | undefined;
    for (;;) {
      this.skipWhitespace();
      const ch = text[this.i];
      if (ch === undefined) {
        this.emitBeforeWhitespace(']');
        break;
      }
      if (ch === ']') {
        this.emit(']');
        this.i++;
        break;
      }
      if (ch === '}' || (ch === ')' && this.enclosedBy('call'))) {
        if (ch === ')' || this.enclosedBy('object')) this.emitBeforeWhitespace(']');
        else {
          this.emit(']');
          this.i++;
        }
        break;
      }
      if (ch === ',') {
        if (!first && commaAt === undefined) commaAt = this.ws.length;
        this.i++;
        continue;
      }
      const ellipsis = this.isEllipsis(this.i);
      if (ellipsis > 0) {
        this.i += ellipsis;
        continue;
      }
      if (!first) this.commitComma(commaAt ?? 0);
      if (!this.parseValue()) this.failUnexpected();
      first = false;
      commaAt = undefined;
    }
    this.stack.pop();
    return true;
  }

  /**
   * A number, repaired where it was cut short (`2.` → `2.0`, `2e` → `2e0`, `-` → `-0`,
   * `.5` → `0.5`). Returns false (nothing consumed) for what is not a number after all
   * (`0789`, `1.2.3`, `2024-10-18`), which then becomes a string.
   */
  private parseNumber(): boolean {
    const text = this.text;
    let p = this.i;
    let number = '';
    if (text[p] === '-') {
      number = '-';
      p++;
      if (this.endsNumber(p)) return this.emitNumber('-0', p);
    }
    if (text[p] === '.') {
      number += '0';
    } else if (isDigit(text[p])) {
      // JSON has no leading zeros, and guessing octal or dropping them changes the value.
      if (text[p] === '0' && isDigit(text[p + 1])) return false;
      while (isDigit(text[p])) number += text[p++];
    } else {
      return false;
    }
    if (text[p] === '.') {
      number += '.';
      p++;
      if (!isDigit(text[p])) number += '0';
      while (isDigit(text[p])) number += text[p++];
    }
    if (text[p] === 'e' || text[p] === 'E') {
      number += text[p++];
      if (text[p] === '+' || text[p] === '-') number += text[p++];
      if (!isDigit(text[p])) number += '0';
      while (isDigit(text[p])) number += text[p++];
    }
    if (!this.endsNumber(p)) return false;
    return this.emitNumber(number, p);
  }

  private emitNumber(number: string, end: number): true {
    this.i = end;
    this.emit(number);
    return true;
  }

  private endsNumber(p: number): boolean {
    const ch = this.text[p];
    // `{` and `[` too: `[{"i":1{"i":2}]` lacks a comma and a brace, not digits.
    if (ch === undefined || isWhitespace(ch) || ',]}){['.includes(ch)) return true;
    return ch === '/' && (this.text[p + 1] === '*' || this.text[p + 1] === '/');
  }

  /** `callback({...})`, `ObjectId("…")`, `NumberLong(2)`: the wrapper goes, the argument stays. */
  private parseCall(): boolean {
    const text = this.text;
    WORD.lastIndex = this.i;
    const name = WORD.exec(text)?.[0];
    if (name === undefined) return false;
    let p = this.i + name.length;
    while (isWhitespace(text[p])) p++;
    if (text[p] !== '(') return false;
    this.enter('call');
    this.i = p + 1;
    this.skipWhitespace();
    if (!this.parseValue()) this.emit('null');
    this.skipWhitespace();
    if (text[this.i] === ')') this.i++;
    this.stack.pop();
    if (text[this.i] === ';') this.i++;
    return true;
  }

  private parseKeyword(): boolean {
    WORD.lastIndex = this.i;
    const word = WORD.exec(this.text)?.[0];
    const json = word === undefined ? undefined : KEYWORDS.get(word);
    if (word === undefined || json === undefined) return false;
    this.i += word.length;
    this.emit(json);
    return true;
  }

  /** `/pattern/flags` becomes the string `"/pattern/flags"`; `/usr/bin` is left to `parseUnquoted`. */
  private parseRegex(): boolean {
    const text = this.text;
    let p = this.i + 1;
    while (p < text.length && text[p] !== '/' && text[p] !== '\n') p += text[p] === '\\' ? 2 : 1;
    if (text[p] !== '/') return false;
    p++;
    while (/[a-z]/.test(text[p] ?? '')) p++;
    if (!this.endsNumber(p)) return false;
    this.emit(JSON.stringify(text.slice(this.i, p)));
    this.i = p;
    return true;
  }

  /**
   * A run of text without quotes (`hello world`, `https://x.org/`, `2024-10-18T18:35Z`) becomes
   * a string. It ends at a structural character or a line break; a `"` right after it is the
   * end quote of a string that lost its opening one (`abc"`).
   */
  private parseUnquoted(): boolean {
    const text = this.text;
    const start = this.i;
    const inCall = this.stack.at(-1) === 'call';
    let p = start;
    while (p < text.length) {
      const ch = text[p]!;
      if (',[]{}\n\r"'.includes(ch) || (inCall && ch === ')')) break;
      // `//` only starts a comment after a blank, so `https://…` stays whole.
      if (ch === '/' && (text[p + 1] === '*' || (text[p + 1] === '/' && isWhitespace(text[p - 1])))) break;
      p++;
    }
    let end = p;
    while (end > start && isWhitespace(text[end - 1])) end--;
    if (end === start) return false;
    this.i = end === p && text[p] === '"' ? p + 1 : end;
    this.emit(JSON.stringify(text.slice(start, end)));
    return true;
  }

  // ---- strings ----

  /** A quoted string plus any `+ "more"` concatenated to it; returns the decoded content. */
  private parseString(role: StringRole): string {
    let value = this.parseQuotedString(role);
    for (;;) {
      const plus = this.peek(this.i).index;
      if (this.text[plus] !== '+') return value;
      const next = this.peek(plus + 1).index;
      if (!this.isStringStart(next)) {
        this.i = plus + 1; // a dangling `+` is dropped
        return value;
      }
      this.i = next;
      value += this.parseQuotedString(role);
    }
  }

  /**
   * Reads one string starting at a quote (or at `\"`, a string escaped one level too many) and
   * returns its content. Escapes are decoded here, so the caller re-encodes with
   * `JSON.stringify` and every repair of the content yields valid JSON.
   */
  private parseQuotedString(role: StringRole): string {
    const text = this.text;
    const escaped = text[this.i] === '\\';
    const open = escaped ? this.i + 1 : this.i;
    const closers = closersFor(text[open]!);
    const body = open + 1;
    let content = '';
    let p = body;
    while (p < text.length) {
      const closeLength = this.closeLengthAt(p, closers, escaped);
      if (closeLength > 0) {
        const verdict = this.judgeClose(p, closeLength, role, body);
        if (verdict === 'accept') {
          this.i = p + closeLength;
          return content;
        }
        if (verdict !== 'reject') {
          this.i = verdict.resume;
          return this.decodeRange(body, verdict.contentEnd, escaped).trimEnd();
        }
        content += text[p + closeLength - 1];
        p += closeLength;
        continue;
      }
      const [piece, next] = this.decodeAt(p, escaped);
      content += piece;
      p = next;
    }
    return this.finishUnterminated(body, closers, escaped, role, content);
  }

  private closeLengthAt(p: number, closers: string, escaped: boolean): number {
    const ch = this.text[p];
    if (ch === undefined) return 0;
    if (escaped && ch === '\\') {
      const next = this.text[p + 1];
      return next !== undefined && closers.includes(next) ? 2 : 0;
    }
    return closers.includes(ch) ? 1 : 0;
  }

  /** Decodes one character or escape at `p`: returns the text it stands for and where the next starts. */
  private decodeAt(p: number, escaped: boolean): [string, number] {
    const ch = this.text[p]!;
    if (ch === '\\') return this.decodeEscape(escaped && this.text[p + 1] === '\\' ? p + 1 : p);
    if (ch.charCodeAt(0) < 0x20) {
      if (CONTROL_CHARACTERS_KEPT.includes(ch)) return [ch, p + 1];
      this.fail(`Invalid character ${JSON.stringify(ch)}`, p);
    }
    return [ch, p + 1];
  }

  private decodeEscape(backslash: number): [string, number] {
    const text = this.text;
    const ch = text[backslash + 1];
    if (ch === undefined) return ['', backslash + 1]; // a lone backslash at the very end
    const simple = SIMPLE_ESCAPES.get(ch);
    if (simple !== undefined) return [simple, backslash + 2];
    if (ch === 'u') {
      const hex = text.slice(backslash + 2, backslash + 6);
      if (HEX4.test(hex)) return [String.fromCharCode(Number.parseInt(hex, 16)), backslash + 6];
      // Cut off by the end of the input (`"\u26`): the half escape is dropped with the rest.
      if (hex.length < 4 && HEX_PREFIX.test(hex)) return ['', text.length];
      this.fail(`Invalid unicode character "${text.slice(backslash, backslash + 6)}"`, backslash);
    }
    // `\'`, `\a`, a backslash before a line break: not JSON escapes, the character stands alone.
    return [ch, backslash + 2];
  }

  private decodeRange(from: number, to: number, escaped: boolean): string {
    let content = '';
    let p = from;
    while (p < to) {
      const [piece, next] = this.decodeAt(p, escaped);
      content += piece;
      p = next;
    }
    return content;
  }

  /**
   * Decides whether the quote at `p` ends the string: by what follows it (a comma before the
   * next key, the closer of the container, a `+`, the end) given where the string stands.
   * A quote followed by more words is an unescaped quote inside the text; one preceded by
   * `,`/`+` and followed by a whole next item means the end quote went missing before them.
   */
  private judgeClose(p: number, closeLength: number, role: StringRole, body: number): CloseVerdict {
    if (role === 'key') return 'accept';
    const after = p + closeLength;
    const { index, newline } = this.peek(after);
    const next = this.text[index];
    if (next === undefined || next === '+') return 'accept';
    switch (role) {
      case 'objectValue':
        if (next === ',' && this.keyFollowsComma(index + 1)) return 'accept';
        if ((next === '}' || next === ']') && this.plausibleAfterCloser(index)) return 'accept';
        break;
      case 'arrayValue':
        if (next === ',') return 'accept';
        if ((next === ']' || next === '}') && this.plausibleAfterCloser(index)) return 'accept';
        break;
      case 'callValue':
        if (next === ')' || next === ',') return 'accept';
        break;
      case 'root':
        if (next === ',') return 'accept';
        break;
    }
    const cut = this.tryCut(p, body, role);
    if (cut !== undefined) return cut;
    switch (role) {
      case 'objectValue':
        // `"John"\n lastName: Smith`: the next property follows without a comma.
        if (this.looksLikeKey(index)) return 'accept';
        break;
      case 'arrayValue':
        // `["a" 2]`, `["a"\n"b"]`: the next item follows without a comma. `"72""` (no blank)
        // is a doubled quote inside the text.
        if (newline || (this.isStringStart(index) && index !== after)) return 'accept';
        if (isDigit(next) || next === '-' || next === '{' || next === '[' || this.keywordAt(index)) return 'accept';
        break;
      case 'root':
        if (newline) return 'accept';
        break;
      default:
        break;
    }
    return 'reject';
  }

  /** `"b,"c":1` → the string ends before the `,`; `"abc+"def"` → before the `+`. */
  private tryCut(p: number, body: number, role: StringRole): CloseVerdict | undefined {
    const separator = this.skipBack(p - 1, body);
    if (separator < body) return undefined;
    const ch = this.text[separator];
    if (ch !== ',' && ch !== '+') return undefined;
    const nextItem = ch === ',' && role === 'objectValue' ? this.looksLikeKey(p) : this.looksLikeWholeString(p);
    if (!nextItem) return undefined;
    return { contentEnd: this.skipBack(separator - 1, body) + 1, resume: separator };
  }

  /** Steps back from `p` over whitespace and block comments, not before `floor`. */
  private skipBack(p: number, floor: number): number {
    const text = this.text;
    while (p >= floor) {
      if (isWhitespace(text[p])) {
        p--;
      } else if (text[p] === '/' && text[p - 1] === '*' && this.firstBlockComment() <= p - 2) {
        const start = text.lastIndexOf('/*', p - 2);
        if (start < floor) return p;
        p = start - 1;
      } else {
        return p;
      }
    }
    return p;
  }

  private keywordAt(p: number): boolean {
    WORD.lastIndex = p;
    const word = WORD.exec(this.text)?.[0];
    return word !== undefined && KEYWORDS.has(word);
  }

  /** After a comma in an object: the next key (quoted or not, then `:`), `}`, `...` or the end. */
  private keyFollowsComma(p: number): boolean {
    const { index } = this.peek(p);
    const ch = this.text[index];
    if (ch === undefined || ch === '}' || this.isEllipsis(index) > 0) return true;
    return this.looksLikeKey(index);
  }

  /** `"key":` or `key:` (or `key":`) starts at `p`; running into the end of a cut-off input counts. */
  private looksLikeKey(p: number): boolean {
    const text = this.text;
    if (p >= text.length) return true;
    let q: number;
    if (this.isStringStart(p)) {
      const string = this.stringEnd(p);
      // A key cut off by the end of the input (`{"a":"x","b`) still counts, unless what is left
      // holds structure (`"}` at the end is a string's end quote and a brace, not a key).
      if (!string.closed) return string.end >= text.length && !/[{}[\],:"]/.test(text.slice(p + 1));
      q = string.end;
    } else {
      q = p;
      while (q < text.length && !isWhitespace(text[q]) && !':,{}[]"\'`'.includes(text[q]!)) q++;
      if (q === p) return false;
      if (text[q] === '"') q++;
    }
    const { index } = this.peek(q);
    return index >= text.length || text[index] === ':';
  }

  /** A whole string (with its end quote) starts at `p` and is followed by what may follow a value. */
  private looksLikeWholeString(p: number): boolean {
    const { end, closed } = this.stringEnd(p);
    // Running into the end proves nothing: in `[","  2` the quote after the comma ends a string.
    if (!closed) return false;
    const { index, newline } = this.peek(end);
    const ch = this.text[index];
    return ch === undefined || newline || ',]})+'.includes(ch);
  }

  /**
   * Where the string opening at `p` ends: just past its end quote (`closed`), or where it ran
   * into a line break or the end of the input.
   */
  private stringEnd(p: number): { end: number; closed: boolean } {
    const text = this.text;
    const escaped = text[p] === '\\';
    const open = escaped ? p + 1 : p;
    const closers = closersFor(text[open]!);
    let q = open + 1;
    while (q < text.length) {
      const closeLength = this.closeLengthAt(q, closers, escaped);
      if (closeLength > 0) return { end: q + closeLength, closed: true };
      if (text[q] === '\n' || text[q] === '\r') return { end: q, closed: false };
      q += text[q] === '\\' ? 2 : 1;
    }
    return { end: text.length, closed: false };
  }

  /**
   * After a `}`/`]`/`)` that might end the container: the end, a comma, another closer, a
   * closing fence, or a next object or array (NDJSON, or two documents run together, which is
   * then reported rather than read as one string). In `{ return "x"}\nelse` the brace is code
   * inside the string.
   */
  private plausibleAfterCloser(p: number): boolean {
    const { index } = this.peek(p + 1);
    const ch = this.text[index];
    return ch === undefined || ',]}){['.includes(ch) || this.text.startsWith('```', index);
  }

  /**
   * The input ended inside the string. If the input ends in `,` `]` or `}` (`["hello, world]`),
   * the end quote belongs before the first such delimiter (or line break); otherwise the string
   * runs to the end (`{"text": "Hello, I hop`).
   */
  private finishUnterminated(body: number, closers: string, escaped: boolean, role: StringRole, content: string): string {
    const text = this.text;
    const last = this.lastSignificantIndex();
    const lastCh = text[last];
    if (last >= body && lastCh !== undefined && ',]}'.includes(lastCh)) {
      const stops = role === 'key' ? ',]}:\n\r' : ',]}\n\r';
      let shortened = '';
      let p = body;
      while (p < text.length) {
        if (stops.includes(text[p]!)) break;
        const closeLength = this.closeLengthAt(p, closers, escaped);
        if (closeLength > 0) {
          this.i = p + closeLength;
          return stripTail(shortened);
        }
        const [piece, next] = this.decodeAt(p, escaped);
        shortened += piece;
        p = next;
      }
      this.i = p;
      return stripTail(shortened);
    }
    this.i = text.length;
    return stripTail(content);
  }

  /** Where the first `/*` is; lets `skipBack` avoid searching backwards for one that is not there. */
  private firstBlockComment(): number {
    if (this.firstBlockCommentAt === undefined) {
      const at = this.text.indexOf('/*');
      this.firstBlockCommentAt = at === -1 ? Number.POSITIVE_INFINITY : at;
    }
    return this.firstBlockCommentAt;
  }

  private lastSignificantIndex(): number {
    if (this.lastSignificant === undefined) {
      let p = this.text.length - 1;
      while (p >= 0 && isWhitespace(this.text[p])) p--;
      this.lastSignificant = p;
    }
    return this.lastSignificant;
  }
}
