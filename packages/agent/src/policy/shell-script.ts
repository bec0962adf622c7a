/**
 * Splits a `bash -lc` / `sh -c` script into the simple commands it runs, without running a
 * shell. The command policy allows a script only when it is a plain list (`&&`, `||`, `;`, `|`)
 * of simple commands made of literal words; anything a shell would interpret further
 * (subshells, redirections, backticks, `$(…)`, variables, process substitution) marks the
 * script `complex`, and the policy then refuses it. The segments are still returned, so deny
 * rules also see the commands hidden inside a complex script.
 */

/** A script split into its simple commands. */
export interface ShellScript {
  /** Each simple command's words (quotes removed), in order. */
  segments: string[][];
  /** For each segment, whether its output is piped into the next one. */
  pipedIntoNext: boolean[];
  /** What makes the script more than a plain list of simple commands; empty when it is one. */
  complexities: string[];
  /** True when the script could not be read (an unterminated quote). */
  malformed: boolean;
}

/** Splits a shell script into simple commands; see {@link ShellScript}. */
export function splitShellScript(script: string): ShellScript {
  const segments: string[][] = [];
  const pipedIntoNext: boolean[] = [];
  const complexities = new Set<string>();
  let words: string[] = [];
  let word: string | undefined;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endSegment = (piped: boolean) => {
    endWord();
    if (words.length > 0) {
      segments.push(words);
      pipedIntoNext.push(piped);
    }
    words = [];
  };
  let i = 0;
  while (i < script.length) {
    const c = script[i] as string;
    const next = script[i + 1];
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) return { segments, pipedIntoNext, complexities: [...complexities], malformed: true };
      word = (word ?? '') + script.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < script.length && script[j] !== '"') {
        const d = script[j] as string;
        if (d === '\\' && j + 1 < script.length) {
          text += script[j + 1];
          j += 2;
          continue;
        }
        if (d === '$') complexities.add('expansion ($)');
        if (d === '`') complexities.add('backticks');
        text += d;
        j++;
      }
      if (j >= script.length) return { segments, pipedIntoNext, complexities: [...complexities], malformed: true };
      word = (word ?? '') + text;
      i = j + 1;
      continue;
    }
    if (c === '\\' && next !== undefined) {
      word = (word ?? '') + next;
      i += 2;
      continue;
    }
    if (c === ' ' || c === '\t') {
      endWord();
      i++;
      continue;
    }
    if (c === '\n' || c === ';') {
      endSegment(false);
      i++;
      continue;
    }
    if ((c === '&' && next === '&') || (c === '|' && next === '|')) {
      endSegment(false);
      i += 2;
      continue;
    }
    if (c === '|') {
      endSegment(true);
      i++;
      continue;
    }
    if (c === '&') {
      complexities.add('background job (&)');
      endSegment(false);
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === '{' || c === '}') {
      complexities.add('subshell or group');
      endSegment(false);
      i++;
      continue;
    }
    if (c === '`') {
      complexities.add('backticks');
      endSegment(false);
      i++;
      continue;
    }
    if (c === '$') {
      complexities.add(next === '(' ? 'command substitution $(…)' : 'expansion ($)');
      if (next === '(') {
        endSegment(false);
        i += 2;
        continue;
      }
      word = (word ?? '') + c;
      i++;
      continue;
    }
    if (c === '<' || c === '>') {
      complexities.add(next === '(' ? 'process substitution' : 'redirection');
      // The redirection's target stays a word of the segment, so a deny rule on a path sees it.
      endWord();
      i += next === '(' ? 2 : next === c || next === '&' ? 2 : 1;
      if (next === '(') endSegment(false);
      continue;
    }
    word = (word ?? '') + c;
    i++;
  }
  endSegment(false);
  return { segments, pipedIntoNext, complexities: [...complexities], malformed: false };
}
