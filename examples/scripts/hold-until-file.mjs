#!/usr/bin/env node
// Waits until a file exists (or a time limit passes), then exits 0. The browser test's scripted
// agent runs it as a tool call, so its subtask holds its lock until the test has seen the lock
// holder in the viewer and creates the file: a deterministic hold instead of a race.
// Usage: node hold-until-file.mjs <path> [maxMs=60000]
import { existsSync } from 'node:fs';

const [path, maxArg] = process.argv.slice(2);
if (!path) {
  console.error('usage: hold-until-file.mjs <path> [maxMs]');
  process.exit(2);
}
const maxMs = Number(maxArg ?? 60_000);
const started = Date.now();
const timer = setInterval(() => {
  if (existsSync(path)) {
    clearInterval(timer);
    console.log(`released after ${Date.now() - started} ms`);
  } else if (Date.now() - started > maxMs) {
    clearInterval(timer);
    console.log(`gave up waiting after ${maxMs} ms`);
  }
}, 100);
