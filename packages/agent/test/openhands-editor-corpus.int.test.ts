/**
 * The OpenHands editor cases (`shared/corpora/edits/openhands_str_replace_editor_cases.json`,
 * 15 cases from openhands-aci's test_oh_editor.py) against our text editor, and the
 * `str_replace` ones also against the `fs.edit` tool, on real files in a temp workspace.
 *
 * Mapping of OpenHands' error classes to our codes: EditorToolParameterMissingError →
 * `missing-parameter`; EditorToolParameterInvalidError for a path that exists / does not exist
 * → `file-state`; ToolError for undo without history → `no-history`.
 *
 * One deliberate difference: OpenHands wants absolute paths and rejects relative ones; the
 * agent's tools take workspace-relative paths and reject absolute ones (issue 2's confinement
 * rule). The "relative path rejected" case is therefore checked in its mirrored form — the path
 * form the editor does not accept is refused, with a message saying which form to use.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDefaultToolRegistry, createTextEditor, type TextEditorResult } from '../src/index.js';

interface EditorCase {
  name: string;
  file?: string;
  cmd: Record<string, unknown> & { command: string };
  expect_file?: string;
  expect_file_unchanged?: boolean;
  expect_error_contains?: string[];
  expect_error_exact?: string;
  expect_error_type?: string;
  with_workspace_root?: string;
}

const corpus = JSON.parse(
  readFileSync(join(__dirname, '../../../../shared/corpora/edits/openhands_str_replace_editor_cases.json'), 'utf8'),
) as { file_initial_default: string; cases: EditorCase[] };

const ERROR_TYPES: Record<string, string> = {
  EditorToolParameterMissingError: 'missing-parameter',
  EditorToolParameterInvalidError: 'file-state',
  ToolError: 'no-history',
};

let workspace = '';
const FILE = 'test.txt';

/** Runs one case in a fresh workspace; returns what went wrong, or undefined when it passes. */
async function runCase(testCase: EditorCase): Promise<string | undefined> {
  // Cases without a `file` start from the upstream fixture's default file.
  const initial = testCase.file ?? corpus.file_initial_default;
  writeFileSync(join(workspace, FILE), initial);
  const editor = createTextEditor({ workspace });
  const command: Record<string, unknown> = { path: FILE, ...testCase.cmd };
  if (testCase.name === 'view nonexistent path') command.path = 'nonexistent.txt';
  if (testCase.name === 'relative path rejected') command.path = join(workspace, FILE);
  const result: TextEditorResult = await editor.run(command);
  const content = existsSync(join(workspace, FILE)) ? readFileSync(join(workspace, FILE), 'utf8') : undefined;

  if (testCase.expect_file !== undefined) {
    if (!result.ok) return `failed: ${result.output}`;
    if (content !== testCase.expect_file) return `file is ${JSON.stringify(content)}`;
    return undefined;
  }
  if (result.ok) return `succeeded, expected an error (${result.output})`;
  if (content !== initial) return `file changed on error: ${JSON.stringify(content)}`;
  if (testCase.expect_error_exact !== undefined && result.output !== testCase.expect_error_exact) return `error was ${JSON.stringify(result.output)}`;
  for (const part of testCase.expect_error_contains ?? []) {
    if (testCase.name === 'relative path rejected') continue;
    if (!result.output.includes(part)) return `error ${JSON.stringify(result.output)} lacks ${JSON.stringify(part)}`;
  }
  if (testCase.name === 'relative path rejected') {
    if (result.code !== 'invalid-parameter' || !result.output.includes('give a path relative to the workspace root')) {
      return `absolute path not refused as expected: ${result.code} ${result.output}`;
    }
  }
  if (testCase.expect_error_type !== undefined && result.code !== ERROR_TYPES[testCase.expect_error_type]) {
    return `error code ${String(result.code)}, expected ${ERROR_TYPES[testCase.expect_error_type]} (${result.output})`;
  }
  return undefined;
}

describe('OpenHands str_replace editor corpus', () => {
  beforeEach(() => {
    workspace = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-editor-')));
  });
  afterEach(() => rmSync(workspace, { recursive: true, force: true }));

  it('has the 15 cases', () => {
    expect(corpus.cases).toHaveLength(15);
  });

  it.each(corpus.cases.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
    expect(await runCase(testCase)).toBeUndefined();
  });

  it('passes every case (summary)', async () => {
    const outer = workspace;
    let passed = 0;
    const failures: string[] = [];
    for (const testCase of corpus.cases) {
      workspace = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-editor-')));
      const failure = await runCase(testCase);
      rmSync(workspace, { recursive: true, force: true });
      if (failure === undefined) passed++;
      else failures.push(`${testCase.name}: ${failure}`);
    }
    workspace = outer;
    console.log(`OpenHands str_replace editor corpus: ${passed}/${corpus.cases.length} cases pass`);
    expect(failures).toEqual([]);
  });

  it('gives the same results through the fs.edit tool for the str_replace cases it accepts', async () => {
    const tools = createDefaultToolRegistry();
    const cases = corpus.cases.filter((c) => c.cmd.command === 'str_replace' && typeof c.cmd.old_str === 'string' && c.cmd.old_str !== '');
    expect(cases.length).toBeGreaterThanOrEqual(7);
    for (const testCase of cases) {
      const initial = testCase.file ?? corpus.file_initial_default;
      writeFileSync(join(workspace, FILE), initial);
      const concerns: string[] = [];
      const result = await tools.run(
        { id: 'c', name: 'fs.edit', argumentsJson: JSON.stringify({ path: FILE, old_str: testCase.cmd.old_str, new_str: testCase.cmd.new_str }) },
        { workspace, writeGuard: { acquire: async (c) => void concerns.push(...c) } },
      );
      const content = readFileSync(join(workspace, FILE), 'utf8');
      if (testCase.expect_file !== undefined) {
        expect({ name: testCase.name, ok: result.ok, content }).toEqual({ name: testCase.name, ok: true, content: testCase.expect_file });
        expect(result.effects).toEqual({ filesChanged: [FILE] });
        expect(concerns).toEqual([`file:${join(workspace, FILE)}`]);
      } else {
        expect({ name: testCase.name, ok: result.ok, content }).toEqual({ name: testCase.name, ok: false, content: initial });
        for (const part of testCase.expect_error_contains ?? []) expect(result.output).toContain(part);
      }
    }
    // fs.edit leaves creating files to fs.write, and says so.
    const missing = await tools.run({ id: 'c', name: 'fs.edit', argumentsJson: JSON.stringify({ path: 'new.txt', old_str: 'a', new_str: 'b' }) }, { workspace });
    expect(missing).toEqual({ ok: false, output: 'new.txt does not exist; use fs.write to create it' });
  });
});
