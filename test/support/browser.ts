/**
 * A real browser for tests: Debian's chromium driven by playwright-core
 * (`scripts/ensure.mjs --browser` installs it). One browser per test file,
 * one fresh context per page, closed after each test by the root hook;
 * what the page logs and throws is kept so tests can assert it stayed clean.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Middleware } from 'koa';
import { onCleanup } from './cleanup.js';

/** Where the browser is; `CHROMIUM` in the environment overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet headless chromium in a container (no sandbox, no GPU, no phoning home). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches chromium. The caller closes it.
 * @throws Error saying how to install chromium when it is missing
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no chromium at ${CHROMIUM_PATH}: run "node scripts/ensure.mjs --browser" (or apt-get install chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * In a mocha `describe`: one browser for its tests, launched before the
 * first and closed after the last. Returns a getter.
 *
 * @example
 * describe('dashboard', () => {
 *   const browser = useBrowser();
 *   it('loads', async () => { const { page } = await openPage(browser(), url); ... });
 * });
 */
export function useBrowser(): () => Browser {
  let browser: Browser | null = null;
  before(async function () {
    this.timeout(30_000);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    browser = null;
  });
  return () => {
    if (browser === null) throw new Error('useBrowser(): the browser is not launched (call it inside describe())');
    return browser;
  };
}

/** A page in its own context, with what it logged and threw. */
export interface TestPage {
  context: BrowserContext;
  page: Page;
  /** console.error and console.warn lines of the page. */
  consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections of the page. */
  pageErrors: Error[];
}

/** Opens `url` in a fresh context (no shared cache or storage), closed after the test. */
export async function openPage(browser: Browser, url?: string, options: { viewport?: { width: number; height: number } } = {}): Promise<TestPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
  onCleanup(() => context.close());
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const pageErrors: Error[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(message.text());
  });
  page.on('pageerror', (err) => pageErrors.push(err));
  if (url !== undefined) await page.goto(url);
  return { context, page, consoleErrors, pageErrors };
}

let shotDir: string | null = null;

/** A directory under os.tmpdir() for this run's screenshots (never the repository). */
export function screenshotDir(): string {
  return (shotDir ??= mkdtempSync(join(tmpdir(), 'koa-juggler-screenshots-')));
}

/** Saves a screenshot of `page` as `<name>.png` in {@link screenshotDir} and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(screenshotDir(), `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Koa middleware serving a test page at `path` and its module script at
 * `path + scriptName` (the script is read when served: tests fill it in `before`).
 */
export function testPage(path: string, html: string, scriptName: string, script: () => string): Middleware {
  return async (ctx, next) => {
    if (ctx.path === path) {
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = html;
    } else if (ctx.path === path + scriptName) {
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.body = script();
    } else {
      await next();
    }
  };
}
