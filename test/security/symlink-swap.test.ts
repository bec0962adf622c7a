/**
 * A symbolic link swapped in between check and use: a file tool checks `a.txt` (or its
 * directory `sub/`) inside the workspace, then, before the read or write, it becomes a link to a
 * sentinel outside. The swap is raced against each tool in a bounded loop, at a different point
 * of the tool's work each iteration (after 0, 1, 2 … turns of the event loop), and also planted
 * exactly between check and write through the write guard. Nothing outside may be read, written
 * or created: reads open with O_NOFOLLOW and check the opened file's real path, writes rename a
 * temporary file over the target after re-checking every parent (confined-read.ts,
 * confined-write.ts).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDefaultToolRegistry, type ToolContext, type ToolObservation } from '@maestro/agent';
import { CaseTable } from './case-table.js';

const ITERATIONS = 200;
const tools = createDefaultToolRegistry();
const table = new CaseTable('symlink swapped between check and use');
const marker = `outside-${randomUUID()}`;
const call = (name: string, args: unknown) => ({ id: 'c', name, argumentsJson: JSON.stringify(args) });

let root: string;
let ws: string;
let outside: string;

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'maestro-sec-swap-')));
  ws = path.join(root, 'ws');
  outside = path.join(root, 'outside');
  mkdirSync(ws);
  mkdirSync(outside);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  table.print();
});

/** Puts the workspace back: `sub/a.txt` and `a.txt` real files; the outside holds the sentinel only. */
function reset(): void {
  for (const name of readdirSync(ws)) rmSync(path.join(ws, name), { recursive: true, force: true });
  for (const name of readdirSync(outside)) rmSync(path.join(outside, name), { recursive: true, force: true });
  mkdirSync(path.join(ws, 'sub'));
  writeFileSync(path.join(ws, 'a.txt'), 'inside\n');
  writeFileSync(path.join(ws, 'sub', 'a.txt'), 'inside\n');
  writeFileSync(path.join(outside, 'a.txt'), `${marker}\n`);
}

/**
 * `a.txt` becomes a link to the sentinel in one step, as an attacker swaps it: the link is made
 * aside and renamed over the file (a tool that writes `a.txt` meanwhile cannot make it fail).
 */
function swapFile(): void {
  const aside = path.join(ws, `.swap-${randomUUID()}`);
  symlinkSync(path.join(outside, 'a.txt'), aside);
  renameSync(aside, path.join(ws, 'a.txt'));
}

/**
 * `sub/` becomes a link to the outside directory: the directory is moved away and the link put
 * in its place; when a tool made `sub/` again in between, that one is moved away too.
 */
function swapParent(): void {
  for (let attempt = 1; ; attempt++) {
    renameSync(path.join(ws, 'sub'), path.join(ws, `sub-${randomUUID()}`));
    try {
      symlinkSync(outside, path.join(ws, 'sub'));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw err;
    }
  }
}

/** Waits `turns` turns of the event loop, so the swap lands at a different point of the tool's work. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((r) => setImmediate(r));
}

/** The outside is exactly the untouched sentinel. */
function outsideUntouched(): boolean {
  const names = readdirSync(outside);
  return names.length === 1 && names[0] === 'a.txt' && readFileSync(path.join(outside, 'a.txt'), 'utf8') === `${marker}\n`;
}

/** Runs `attempt` racing `swap` ITERATIONS times and records one row. */
async function race(name: string, target: string, swap: () => void, attempt: (context: ToolContext) => Promise<ToolObservation>, guardSwap = false): Promise<void> {
  let refused = 0;
  let inside = 0;
  const escapes: string[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    reset();
    const context: ToolContext = {
      workspace: ws,
      writeGuard: { acquire: async () => (guardSwap ? swap() : undefined) },
    };
    const running = attempt(context);
    if (!guardSwap) {
      await turns(i % 12);
      swap();
    }
    const observation = await running;
    if (observation.output.includes(marker)) escapes.push(`iteration ${i}: read the outside file`);
    else if (!outsideUntouched()) escapes.push(`iteration ${i}: changed the outside (${readdirSync(outside).join(', ')})`);
    else if (observation.ok) inside++;
    else refused++;
  }
  table.record({
    case: `${name} (${target}, ${ITERATIONS} races${guardSwap ? ', swapped in the write guard' : ''})`,
    expected: 'refused or kept inside; outside never read or written',
    got: `refused ${refused}, inside ${inside}, escaped ${escapes.length}${escapes.length > 0 ? `: ${escapes.slice(0, 2).join('; ')}` : ''}`,
    pass: escapes.length === 0,
  });
}

jest.setTimeout(300_000);

it('never lets a swapped link carry a read or a write outside the workspace', async () => {
  await race('fs.read', 'a.txt → link', swapFile, (c) => tools.run(call('fs.read', { path: 'a.txt' }), c));
  await race('fs.read', 'sub/ → link', swapParent, (c) => tools.run(call('fs.read', { path: 'sub/a.txt' }), c));
  await race('fs.search', 'a.txt → link', swapFile, (c) => tools.run(call('fs.search', { pattern: 'outside', path: '.' }), c));
  await race('fs.write', 'a.txt → link', swapFile, (c) => tools.run(call('fs.write', { path: 'a.txt', content: 'written\n' }), c));
  await race('fs.write', 'sub/ → link', swapParent, (c) => tools.run(call('fs.write', { path: 'sub/a.txt', content: 'written\n' }), c));
  await race('fs.write', 'a.txt → link', swapFile, (c) => tools.run(call('fs.write', { path: 'a.txt', content: 'written\n' }), c), true);
  await race('fs.write', 'sub/ → link', swapParent, (c) => tools.run(call('fs.write', { path: 'sub/a.txt', content: 'written\n' }), c), true);
  await race('fs.edit', 'a.txt → link', swapFile, (c) => tools.run(call('fs.edit', { path: 'a.txt', old_str: 'inside', new_str: 'edited' }), c));
  await race('fs.edit', 'sub/ → link', swapParent, (c) => tools.run(call('fs.edit', { path: 'sub/a.txt', old_str: 'inside', new_str: 'edited' }), c), true);
  await race(
    'fs.apply_patch delete',
    'sub/ → link',
    swapParent,
    (c) => tools.run(call('fs.apply_patch', { patch: '--- sub/a.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-inside\n' }), c),
    true,
  );
  expect(existsSync(path.join(outside, 'a.txt'))).toBe(true);
  expect(table.failures()).toEqual([]);
});
