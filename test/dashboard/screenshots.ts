/**
 * Screenshots of the dashboard's main views for docs/, taken with the headless Chromium the tests use:
 *   npm start -- --keep                           # in another terminal: the demo's stack (.local/stack.json)
 *   npx tsx test/dashboard/screenshots.ts docs/   # a dashboard of this checkout on that stack, three screenshots
 */
import { join } from 'node:path';
import { startDashboard } from '../../lib/dashboard/server';
import { resolveDashboardTarget } from '../../lib/dashboard/target';
import { launchChromium } from '../support/browser';

async function main(url: string, dir: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
    await page.goto(url);
    await page.waitForSelector('body[data-map-ready="true"]', { timeout: 60_000 });
    await page.waitForSelector('#health-counters dd', { timeout: 30_000 });
    await page.waitForTimeout(1500);
    await page.screenshot({ path: join(dir, 'dashboard-overview.png') });

    const unicorn = page.locator('#device-list button[data-device]').first();
    await unicorn.click();
    await page.waitForSelector('#minutes-summary', { timeout: 30_000 });
    await page.locator('#minutes .raw-button').first().click();
    await page.waitForSelector('#raw-figures', { timeout: 60_000 });
    await page.waitForTimeout(2500); // the fly-to animation
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(dir, 'dashboard-unicorn.png') });

    await page.fill('#search', 'Lima'); // afternoon in Lima while it is evening in UTC: panels producing
    await page.locator('#device-list button[data-device^="SP-"]').first().click();
    await page.waitForSelector('#minutes-summary', { timeout: 30_000 });
    await page.selectOption('#finding-name', 'solar-duplicates');
    await page.click('#finding-run');
    await page.waitForSelector('#finding-figures[data-rows]', { timeout: 120_000 });
    await page.waitForTimeout(2500);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(dir, 'dashboard-panel.png') });
  } finally {
    await browser.close();
  }
}

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: npx tsx test/dashboard/screenshots.ts OUTPUT_DIR   (with a running embedded stack)\n');
  process.exit(2);
}
(async () => {
  const dashboard = await startDashboard({ target: resolveDashboardTarget({}), port: 0 });
  try {
    await main(dashboard.url, dir);
  } finally {
    await dashboard.close();
  }
})().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
