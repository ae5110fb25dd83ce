// Refreshes docs/screenshots/ (the README shows them): starts the demo,
// plays a little with it from two browser tabs and takes screenshots of the
// dashboard on a desktop and on a phone, then of the admin page (/_admin/)
// while the dashboard keeps clicking.
//
//   node scripts/ensure.mjs --browser && npx tsx scripts/screenshots.ts
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startDemo } from '../src/cli/demo-app.js';
import { launchChromium } from '../test/support/browser.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'docs', 'screenshots');

const demo = await startDemo({ host: '127.0.0.1', port: 0, admin: true, onError: () => {} });
const browser = await launchChromium();
try {
  const url = `http://127.0.0.1:${demo.port}/`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light', deviceScaleFactor: 1 });
  const main = await context.newPage();
  await main.goto(url);
  await connected(main);

  // A second tab: a "joined" event, two clients, and someone else's clicks.
  const other = await context.newPage();
  await other.goto(url);
  await connected(other);

  for (let i = 0; i < 9; i++) await click(main, 'increment');
  await click(other, 'increment'); // 10: a milestone, by the other client
  await click(main, 'reset');
  for (let i = 0; i < 4; i++) await click(other, 'increment');
  for (let i = 0; i < 3; i++) await click(main, 'increment');
  await click(main, 'decrement');
  // Let the uptime tick a few seconds, and the feed's entrance animation finish.
  await main.waitForFunction(() => (window as any).dashboard?.live?.state?.uptime >= 4, null, { timeout: 10_000 });
  await main.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await main.mouse.move(5, 5);
  await main.waitForTimeout(400);

  mkdirSync(outDir, { recursive: true });
  const desktop = join(outDir, 'dashboard.png');
  await main.screenshot({ path: desktop, fullPage: true });

  const phoneContext = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'light', deviceScaleFactor: 2, isMobile: true });
  const phone = await phoneContext.newPage();
  await phone.goto(url);
  await connected(phone);
  await phone.waitForTimeout(400);
  const mobile = join(outDir, 'dashboard-mobile.png');
  await phone.screenshot({ path: mobile });

  // The admin page: the two dashboards listed, the state opened a level, diffs going out.
  const admin = await context.newPage();
  await admin.goto(`http://127.0.0.1:${demo.port}/_admin/`);
  await admin.waitForSelector('[data-testid="connections"] tr');
  await admin.click('[data-path="[]"]');
  await admin.waitForSelector('[data-path=\'["counter"]\']');
  await admin.waitForTimeout(300);
  for (let i = 0; i < 3; i++) await click(main, 'increment');
  await click(other, 'increment');
  await admin.waitForFunction(() => (document.querySelector('[data-testid="diffs"]')?.children.length ?? 0) >= 3, null, { timeout: 10_000 });
  await admin.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="request-rate"]')?.textContent ?? ''), null, { timeout: 10_000 });
  await admin.mouse.move(5, 5);
  const adminShot = join(outDir, 'admin.png');
  await admin.screenshot({ path: adminShot, fullPage: true });

  console.log(`wrote ${relative(root, desktop)}, ${relative(root, mobile)} and ${relative(root, adminShot)}`);
} finally {
  await browser.close();
  await demo.close();
}

async function connected(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  await page.waitForFunction(() => document.getElementById('counter')?.textContent !== '–');
}

async function click(page: Page, id: string): Promise<void> {
  const before = await page.textContent('#last-result');
  await page.click(`#${id}`);
  await page.waitForFunction((b) => document.getElementById('last-result')?.textContent !== b, before);
}
