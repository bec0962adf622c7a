/**
 * What the browser tests share: Debian's Chromium driven headless by playwright-core, the
 * prerequisites checked first (Chromium installed, the viewer built), and a browser context
 * signed in as the viewer keeps it (the cluster's operator key in each tab's sessionStorage).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { repoRoot } from '../e2e/harness.js';

/** Debian's Chromium (scripts/ensure-chromium.sh installs it; make test runs that). */
export const CHROMIUM = '/usr/bin/chromium';

/** Where the browser tests save their screenshots. */
export const browserArtifacts = join(repoRoot, 'test', 'browser', 'artifacts');

/** Throws, saying what to run, when Chromium or the built viewer is missing; makes the artefacts directory. */
export function checkBrowserPrerequisites(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does)`);
  if (!existsSync(join(repoRoot, 'packages', 'web', 'dist', 'index.html'))) throw new Error('the viewer is not built: run make build');
  mkdirSync(browserArtifacts, { recursive: true });
}

/** A headless Chromium context (its profile in `profileDir`) whose tabs are signed in with `apiKey`. */
export async function launchSignedInViewer(profileDir: string, apiKey: string): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  // Runs in the page, where `sessionStorage` is the browser's (this file is type-checked without the DOM library).
  await context.addInitScript((key: string) => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem('maestro.apiKey', key), apiKey);
  return context;
}
