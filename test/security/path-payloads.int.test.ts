/**
 * Every payload of the path-traversal corpus through every field that names a path: the agent's
 * file tools (read, list, search, write, edit, delete) and the exec tool's `cwd` on a real
 * temporary workspace, SubmitTask's `repo_path` through the orchestrator's own checks, and the
 * gateway's path parameters and the viewer's static files over HTTP.
 * Each answer must be a refusal or stay confined: a sentinel planted just outside the workspace
 * (and /etc/passwd) is never read, listed, searched, written or deleted, and nothing appears
 * outside the workspace. One table row per corpus file and field, with the counts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent, request as httpRequest } from 'node:http';
import path from 'node:path';
import { createDefaultToolRegistry, type ToolObservation } from '@maestro/agent';
import { UserError } from '@maestro/runtime';
import { checkRepoRoots, normalizeRepoPath } from '../../services/orchestrator/src/domain/task-submission.js';
import { createFakeUpstreams, depsOf } from '../../services/gateway/test/fakes/index.js';
import { bearer, TEST_ADMIN_KEY } from '../../services/gateway/test/auth.js';
import { seedAndDescribe } from '../../services/gateway/test/openapi-examples.js';
import { serve } from '../../services/gateway/test/serve.js';
import { CaseTable } from './case-table.js';
import { loadPayloadLists, type PayloadList } from './payload-corpus.js';

const tools = createDefaultToolRegistry();
const table = new CaseTable('path payloads through every path field');
const marker = `sentinel-${randomUUID()}`;
const SENTINEL_FILE = 'sentinel.txt';
const SENTINEL_TEXT = `${marker} secret outside the workspace\n`;
/** A line of /etc/passwd every Linux has: seeing it means a read escaped. */
const PASSWD_LINE = /^root:[^:\n]*:0:0:/m;
/** Payloads of one list sent over HTTP at most (every `n`-th, for a longer list). */
const HTTP_SAMPLE = 2_000;
/** Tool calls in flight at once. */
const CONCURRENCY = 32;
/** The corpus holds some 23,000 payloads, each through several tools. */
jest.setTimeout(600_000);

let root: string;
let ws: string;
let lists: PayloadList[];
let protectedBefore: Map<string, string>;

const call = (name: string, args: unknown) => ({ id: 'c', name, argumentsJson: JSON.stringify(args) });

function digest(file: string): string {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';
}

/** Files that must never change: the sentinel and a few system files a payload aims at. */
function protectedState(): Map<string, string> {
  return new Map([path.join(root, SENTINEL_FILE), '/etc/passwd', '/etc/issue', '/etc/hosts'].map((file) => [file, digest(file)]));
}

/** Everything under `root` but the workspace: must stay exactly the sentinel and the marker directory. */
function outsideEntries(): string[] {
  return readdirSync(root).filter((name) => name !== 'ws').sort();
}

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'maestro-sec-paths-')));
  ws = path.join(root, 'ws');
  mkdirSync(path.join(ws, 'src'), { recursive: true });
  writeFileSync(path.join(ws, 'README.md'), 'inside\n');
  writeFileSync(path.join(root, SENTINEL_FILE), SENTINEL_TEXT);
  mkdirSync(path.join(root, marker));
  lists = loadPayloadLists(SENTINEL_FILE);
  protectedBefore = protectedState();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  table.print();
});

/** Runs `attempt` for every payload of every list and records one row per list. */
async function throughField(field: string, attempt: (payload: string) => Promise<ToolObservation>, leaked: (observation: ToolObservation, payload: string) => string | undefined): Promise<void> {
  for (const list of lists) {
    let refused = 0;
    let confined = 0;
    const leaks: string[] = [];
    // A few at once: the file system work of one call overlaps the checks of the next.
    for (let i = 0; i < list.payloads.length; i += CONCURRENCY) {
      const batch = list.payloads.slice(i, i + CONCURRENCY);
      const observations = await Promise.all(batch.map((payload) => attempt(payload)));
      observations.forEach((observation, j) => {
        const payload = batch[j]!;
        const leak = leaked(observation, payload);
        if (leak !== undefined) leaks.push(`${JSON.stringify(payload)}: ${leak}`);
        else if (observation.ok) confined++;
        else refused++;
      });
    }
    table.record({
      case: `${list.name} (${list.payloads.length}) via ${field}`,
      expected: 'refused or confined, nothing outside touched',
      got: `refused ${refused}, confined ${confined}, leaked ${leaks.length}${leaks.length > 0 ? `: ${leaks.slice(0, 2).join('; ')}` : ''}`,
      pass: leaks.length === 0,
    });
  }
}

/** A read or listing leaked when it shows the sentinel's text, the marker directory or /etc/passwd. */
const showsOutside = (observation: ToolObservation): string | undefined =>
  observation.output.includes(marker) ? 'showed the sentinel outside the workspace' : PASSWD_LINE.test(observation.output) ? 'showed /etc/passwd' : undefined;

/** A change leaked when it names a file outside the workspace. */
const changedOutside = (observation: ToolObservation): string | undefined => {
  const outside = (observation.effects?.filesChanged ?? []).filter((file) => {
    const resolved = path.resolve(ws, file);
    return resolved !== ws && !resolved.startsWith(ws + path.sep);
  });
  return outside.length > 0 ? `changed ${outside.join(', ')}` : showsOutside(observation);
};

describe('the agent file tools and exec cwd', () => {
  const context = () => ({ workspace: ws, writeGuard: { acquire: async () => undefined } });

  it('fs.read, fs.list, fs.search and exec cwd never show what lies outside', async () => {
    const before = new Set(table.cases);
    await throughField('fs.read path', (p) => tools.run(call('fs.read', { path: p }), context()), showsOutside);
    await throughField('fs.list path', (p) => tools.run(call('fs.list', { path: p }), context()), showsOutside);
    await throughField('fs.search path', (p) => tools.run(call('fs.search', { pattern: marker, path: p }), context()), showsOutside);
    await throughField('exec cwd', (p) => tools.run(call('exec', { argv: ['ls', '-a'], cwd: p }), context()), showsOutside);
    expect(table.failures().filter((c) => !before.has(c))).toEqual([]);
  });

  it('fs.write, fs.edit and fs.apply_patch deletes never change anything outside', async () => {
    const before = new Set(table.cases);
    await throughField('fs.write path', (p) => tools.run(call('fs.write', { path: p, content: 'confined\n' }), context()), changedOutside);
    // old_str is the sentinel's text without the marker: the tool may quote it back, and an edit that reached the sentinel would change its digest.
    await throughField('fs.edit path', (p) => tools.run(call('fs.edit', { path: p, old_str: 'secret outside the workspace', new_str: 'owned' }), context()), changedOutside);
    await throughField(
      'fs.apply_patch delete',
      (p) => tools.run(call('fs.apply_patch', { patch: `--- ${p}\n+++ /dev/null\n@@ -1 +0,0 @@\n-${SENTINEL_TEXT}` }), context()),
      changedOutside,
    );
    const after = protectedState();
    for (const [file, before] of protectedBefore) {
      table.record({ case: `${file} after every write, edit and delete`, expected: 'unchanged', got: after.get(file) === before ? 'unchanged' : 'CHANGED', pass: after.get(file) === before });
    }
    const entries = outsideEntries();
    const expected = [marker, SENTINEL_FILE].sort();
    table.record({ case: 'entries next to the workspace', expected: expected.join(', '), got: entries.join(', '), pass: JSON.stringify(entries) === JSON.stringify(expected) });
    expect(table.failures().filter((c) => !before.has(c))).toEqual([]);
  });
});

describe('SubmitTask repo_path', () => {
  it('is refused unless its real path lies inside MAESTRO_REPO_ROOTS', async () => {
    const before = new Set(table.cases);
    const allowed = path.join(root, 'repos');
    mkdirSync(path.join(allowed, 'calc'), { recursive: true });
    const roots = [realpathSync(allowed)];
    for (const list of lists) {
      let refused = 0;
      let inside = 0;
      const escapes: string[] = [];
      for (const payload of list.payloads) {
        // As given (mostly relative: refused), and appended to an allowed repository (traversal out of it).
        for (const repoPath of [payload, `${allowed}/calc/${payload}`]) {
          try {
            const real = await checkRepoRoots(normalizeRepoPath(repoPath), roots);
            // A path that does not exist comes back as given, for checkRepository to refuse; it must really not exist.
            const exists = existsSync(real);
            if (exists && !(real === roots[0] || real.startsWith(roots[0]! + path.sep))) escapes.push(`${JSON.stringify(repoPath)} → ${real}`);
            else inside++;
          } catch (err) {
            if (err instanceof UserError) refused++;
            else escapes.push(`${JSON.stringify(repoPath)} threw ${String(err)}`);
          }
        }
      }
      table.record({
        case: `${list.name} (${list.payloads.length}×2) via repo_path`,
        expected: 'refused (4xx) or inside the roots',
        got: `refused ${refused}, inside or missing ${inside}, escaped ${escapes.length}${escapes.length > 0 ? `: ${escapes.slice(0, 2).join('; ')}` : ''}`,
        pass: escapes.length === 0,
      });
    }
    expect(table.failures().filter((c) => !before.has(c))).toEqual([]);
  });
});

describe('the gateway path parameters and the viewer files', () => {
  /** Characters a request line cannot carry raw are percent-encoded; `/`, `.`, `%` and `\` go as they are. */
  const rawPath = (text: string): string => text.replace(/[^\x21-\x7e]|[#?]/g, (c) => encodeURIComponent(c));

  it('answers every payload with 400 or 404 (never 5xx) and never serves a file outside the viewer', async () => {
    const before = new Set(table.cases);
    const fakes = createFakeUpstreams();
    await seedAndDescribe(fakes);
    const dist = path.join(root, 'web-dist');
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>viewer</title>');
    writeFileSync(path.join(dist, 'assets', 'app.js'), 'console.log(1);');
    const app = await serve(depsOf(fakes, { webDist: dist }));
    const url = new URL(app.url);
    const agent = new Agent({ keepAlive: true, maxSockets: 2 * CONCURRENCY });
    const get = (requestPath: string): Promise<{ status: number; text: string }> =>
      new Promise((resolve) => {
        const req = httpRequest({ host: url.hostname, port: url.port, path: requestPath, agent, headers: bearer(TEST_ADMIN_KEY) }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', (err) => resolve({ status: 0, text: err.message }));
        req.end();
      });
    // Each payload through the viewer's assets and through one id route, the routes taking turns.
    // A list longer than HTTP_SAMPLE (dotdotpwn: 21,144 variations of the same few traversals) is
    // sampled with a fixed stride: every payload over HTTP would take many minutes.
    const idRoutes = ['/v1/tasks/{id}', '/v1/runs/{id}', '/v1/runs/{id}/history', '/v1/tasks/{id}/steps', '/v1/definitions/{id}', '/v1/definitions/{id}/versions'];
    try {
      for (const list of lists) {
        const stride = Math.ceil(list.payloads.length / HTTP_SAMPLE);
        const payloads = list.payloads.filter((_p, i) => i % stride === 0);
        const rows = new Map<string, { statuses: Map<number, number>; bad: string[] }>();
        const note = (route: string, payload: string, answer: { status: number; text: string }, ok: (status: number) => boolean): void => {
          const row = rows.get(route) ?? { statuses: new Map<number, number>(), bad: [] };
          rows.set(route, row);
          row.statuses.set(answer.status, (row.statuses.get(answer.status) ?? 0) + 1);
          const leak = answer.text.includes(marker) ? 'served the sentinel' : PASSWD_LINE.test(answer.text) ? 'served /etc/passwd' : undefined;
          if (leak !== undefined || !ok(answer.status)) row.bad.push(`${JSON.stringify(payload)}: ${leak ?? `status ${answer.status}`}`);
        };
        for (let i = 0; i < payloads.length; i += CONCURRENCY) {
          await Promise.all(
            payloads.slice(i, i + CONCURRENCY).map(async (payload, j) => {
              const apiOk = (status: number): boolean => status === 400 || status === 404;
              const route = idRoutes[(i + j) % idRoutes.length]!;
              const [inTurn, asset] = await Promise.all([
                get(route.replace('{id}', encodeURIComponent(payload))),
                // The raw payload after /assets/: a file outside the viewer must never come back; index.html or a 4xx may.
                get(`/assets/${rawPath(payload)}`),
              ]);
              note(`GET ${route} (in turn)`, payload, inTurn, apiOk);
              note('GET /assets/<raw payload>', payload, asset, (status) => status > 0 && status < 500);
            }),
          );
        }
        for (const [route, row] of rows) {
          table.record({
            case: `${list.name} (${payloads.length}${payloads.length < list.payloads.length ? ` of ${list.payloads.length}` : ''}) via ${route}`,
            expected: route.startsWith('GET /assets') ? 'no file outside the viewer, no 5xx' : '400 or 404, nothing read',
            got: `${[...row.statuses].map(([status, n]) => `${status}×${n}`).join(' ')}${row.bad.length > 0 ? `; ${row.bad.length} bad: ${row.bad.slice(0, 2).join('; ')}` : ''}`,
            pass: row.bad.length === 0,
          });
        }
      }
    } finally {
      agent.destroy();
      await app.close();
    }
    expect(table.failures().filter((c) => !before.has(c))).toEqual([]);
  });
});
