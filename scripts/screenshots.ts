// Refreshes docs/screenshots/ (the README shows them): starts the demo,
// takes screenshots of the plant monitor (index.html) on a desktop and on a
// phone once its trends have a few seconds of history and an alarm is
// acknowledged, plays a little with the counter page from two browser tabs
// and takes it on a desktop and on a phone, then the admin page (/_admin/)
// while the counter keeps clicking.
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

// The plant on one server; the counter and the admin page on another without it (the admin page's state tree stays small).
const plantDemo = await startDemo({ host: '127.0.0.1', port: 0, onError: () => {}, plant: true });
const demo = await startDemo({ host: '127.0.0.1', port: 0, admin: true, onError: () => {} });
const browser = await launchChromium();
try {
  const plantUrl = `http://127.0.0.1:${plantDemo.port}/`;
  const url = `http://127.0.0.1:${demo.port}/counter.html`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light', deviceScaleFactor: 1 });
  mkdirSync(outDir, { recursive: true });

  const plant = await context.newPage();
  await plant.goto(plantUrl);
  await plantShown(plant);
  // Acknowledge one alarm, so the list shows both kinds.
  const row = plant.locator('.alarm-row:not(.acked)').first();
  await row.waitFor({ timeout: 30_000 });
  await row.locator('button').click();
  await plant.waitForTimeout(12_000); // a trend worth looking at: 12 s of history
  await plant.mouse.move(5, 5);
  const plantDesktop = join(outDir, 'plant.png');
  await plant.screenshot({ path: plantDesktop, fullPage: true });
  await plant.close();

  const plantPhoneContext = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'light', deviceScaleFactor: 2, isMobile: true });
  const plantPhone = await plantPhoneContext.newPage();
  await plantPhone.goto(`${plantUrl}#turbine`);
  await plantShown(plantPhone);
  await plantPhone.waitForFunction(() => document.querySelectorAll('#areas .area').length === 1);
  await plantPhone.waitForTimeout(8_000);
  const plantMobile = join(outDir, 'plant-mobile.png');
  await plantPhone.screenshot({ path: plantMobile });
  await plantPhoneContext.close();
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

  console.log(`wrote ${[plantDesktop, plantMobile, desktop, mobile, adminShot].map((f) => relative(root, f)).join(', ')}`);
} finally {
  await browser.close();
  await demo.close();
  await plantDemo.close();
}

async function connected(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  await page.waitForFunction(() => document.getElementById('counter')?.textContent !== '–');
}

async function plantShown(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  await page.waitForFunction(() => document.querySelectorAll('#charts canvas').length > 0, null, { timeout: 10_000 });
}

async function click(page: Page, id: string): Promise<void> {
  const before = await page.textContent('#last-result');
  await page.click(`#${id}`);
  await page.waitForFunction((b) => document.getElementById('last-result')?.textContent !== b, before);
}
