/**
 * The demo's plant monitor (static/index.html) in chromium, against
 * startDemo() with the plant on, on 127.0.0.1, port 0: trends drawn by
 * uPlot, an alarm acknowledged, the area selector narrowing what the
 * server sends (a view), and a phone-sized screen.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startDemo, type Demo, type DemoOptions } from '../../src/cli/demo-app.js';
import { openPage, screenshot, useBrowser } from '../support/browser.js';
import { onCleanup } from '../support/cleanup.js';

async function demo(options: DemoOptions = {}): Promise<Demo & { url: string }> {
  const running = await startDemo({ host: '127.0.0.1', port: 0, onError: () => {}, plant: { pointsPerArea: 40, disturbance: 0.5 }, ...options });
  onCleanup(() => running.close());
  return Object.assign(running, { url: `http://127.0.0.1:${running.port}/` });
}

async function connected(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  await page.waitForFunction(() => document.querySelectorAll('.tile').length > 0, null, { timeout: 10_000 });
}

/** Each chart's canvas as an image (toDataURL reads it back without slowing the canvas down). */
const images = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll<HTMLCanvasElement>('#charts canvas'), (c) => c.toDataURL()));

describe('plant monitor (static/index.html) in chromium', function () {
  this.timeout(30_000);
  const browser = useBrowser();

  it('is what / leads to, and draws a trend chart per area that keeps moving', async () => {
    const server = await demo();
    const { page, pageErrors, consoleErrors } = await openPage(browser(), server.url);
    await connected(page);
    assert.equal(new URL(page.url()).pathname, '/index.html');
    assert.equal(await page.title(), 'koa-juggler · plant monitor');
    assert.equal(await page.getByTestId('kpi-points').textContent(), '160');
    await page.waitForFunction(() => document.querySelectorAll('#charts .chart canvas').length === 4, null, { timeout: 10_000 });
    // Samples arrive 4 times a second: each chart draws its lines, then redraws as they move.
    const first = await images(page);
    const blank = await page.evaluate(() => Object.assign(document.createElement('canvas'), { width: 10, height: 10 }).toDataURL());
    assert.ok(first.every((image) => image !== blank));
    await page.waitForFunction(
      (before) => {
        const now = Array.from(document.querySelectorAll<HTMLCanvasElement>('#charts canvas'), (c) => c.toDataURL());
        return now.length === before.length && now.every((image, i) => image !== before[i]);
      },
      first,
      { timeout: 10_000, polling: 250 },
    );
    assert.equal(await page.locator('#charts .u-legend .u-series').count(), 4 * 4);
    assert.deepEqual(
      await page.$$eval('#charts figcaption', (els) => els.map((e) => e.textContent)),
      ['Boiler', 'Turbine', 'Cooling water', 'Feedwater'],
    );
    await screenshot(page, 'plant');
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });

  it('acknowledges an alarm with a request: the row shows it, the feed says who', async () => {
    const server = await demo();
    const { page, pageErrors } = await openPage(browser(), server.url);
    await connected(page);
    const row = page.locator('.alarm-row:not(.acked)').first();
    await row.waitFor({ timeout: 15_000 });
    const point = (await row.getAttribute('data-point'))!;
    // By its point: `row` is re-resolved on use, and a newer alarm may be first by then.
    await page.locator(`.alarm-row[data-point="${point}"] button`).click();
    // Acknowledged: still listed while the value is out of its limits, else gone.
    await page.waitForFunction(
      (id) => {
        const li = document.querySelector(`.alarm-row[data-point="${id}"]`);
        return li === null || li.classList.contains('acked');
      },
      point,
      { timeout: 10_000 },
    );
    await page.waitForFunction((id) => document.getElementById('feed')!.textContent!.includes(`client #1 acknowledged ${id}`), point, { timeout: 10_000 });
    const area = point.split('-')[0]!;
    const alarm = server.state.get(['plant', 'alarms', area, point]) as { acked: boolean } | undefined;
    assert.ok(alarm === undefined || alarm.acked, JSON.stringify(alarm));
    assert.deepEqual(pageErrors, []);
  });

  it('narrows the state to one area with the selector, and widens it again', async () => {
    const server = await demo();
    const { page, pageErrors } = await openPage(browser(), server.url);
    await connected(page);
    await page.getByTestId('area').selectOption('turbine');
    await page.waitForFunction(() => document.querySelectorAll('#areas .area').length === 1, null, { timeout: 10_000 });
    assert.equal(await page.locator('#areas .area').getAttribute('data-area'), 'turbine');
    assert.equal(await page.getByTestId('kpi-points').textContent(), '40');
    const [conn] = [...server.server.connections];
    assert.deepEqual(conn.view, [['plant', 'alarms', 'turbine'], ['plant', 'areas', 'turbine'], ['plant', 'stats']]);
    // Only the turbine's alarms reach the page.
    const seen = await page.evaluate(() => Array.from(document.querySelectorAll('.alarm-row'), (li) => (li as HTMLElement).dataset.point!));
    assert.ok(seen.every((id) => id.startsWith('turbine-')), seen.join());
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#charts figcaption'), (e) => e.textContent).join() === 'Turbine', null, { timeout: 10_000 });
    assert.equal(new URL(page.url()).hash, '#turbine');

    await page.getByTestId('area').selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('#areas .area').length === 4, null, { timeout: 10_000 });
    assert.equal(conn.view, null);
    assert.deepEqual(pageErrors, []);
  });

  it('opens on the area in the address, and fits a phone screen without sideways scrolling', async () => {
    const server = await demo();
    const { page, pageErrors } = await openPage(browser(), `${server.url}index.html#cooling`, { viewport: { width: 390, height: 844 } });
    await connected(page);
    await page.waitForFunction(() => document.querySelectorAll('#areas .area').length === 1, null, { timeout: 10_000 });
    assert.equal(await page.getByTestId('area').inputValue(), 'cooling');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0);
    await screenshot(page, 'plant-phone');
    assert.deepEqual(pageErrors, []);
  });
});
