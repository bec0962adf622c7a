/**
 * The security suite's report: each file collects its cases (what was tried, what was expected,
 * what happened, whether that is a pass) and prints them as one table with the counts, so a
 * run shows every attack tried and its outcome, not only that the file passed.
 */

/** One attack tried and its outcome. */
export interface SecurityCase {
  case: string;
  expected: string;
  got: string;
  pass: boolean;
}

/** Collects cases and prints them once, in the order they ran. */
export class CaseTable {
  readonly cases: SecurityCase[] = [];

  constructor(private readonly title: string) {}

  /** Records a case and returns whether it passed. */
  record(entry: SecurityCase): boolean {
    this.cases.push(entry);
    return entry.pass;
  }

  /** The cases that did not pass (a test asserts this is empty, so a failure names them). */
  failures(): SecurityCase[] {
    return this.cases.filter((c) => !c.pass);
  }

  /** The table as Markdown-like text, with the counts. */
  render(): string {
    const cell = (text: string): string => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 120);
    const rows = this.cases.map((c) => `| ${cell(c.case)} | ${cell(c.expected)} | ${cell(c.got)} | ${c.pass ? 'yes' : 'NO'} |`);
    const passed = this.cases.filter((c) => c.pass).length;
    return [
      `${this.title}`,
      '| case | expected | got | pass |',
      '| --- | --- | --- | --- |',
      ...rows,
      `${passed}/${this.cases.length} cases passed, ${this.cases.length - passed} failed`,
    ].join('\n');
  }

  /** Prints the table (stdout, past Jest's console decoration). */
  print(): void {
    process.stdout.write(`\n${this.render()}\n`);
  }
}
