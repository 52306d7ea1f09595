// Screenshots of pages at desktop and phone widths, for looking at them (not a test).
// Usage: node shots.mjs BASE_URL OUT_DIR COOKIE path...
import { chromium } from 'playwright-core';
const [base, out, cookie, ...paths] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
for (const width of [1280, 375]) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  if (cookie) {
    const url = new URL(base);
    await context.addCookies([{ name: 'sluice_session', value: cookie, domain: url.hostname, path: '/' }]);
  }
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => { if (m.type() === 'error') violations.push(page.url() + ' ' + m.text().slice(0, 200)); });
  for (const p of paths) {
    await page.goto(base + p);
    await page.waitForTimeout(800);
    const name = p.replace(/[^a-z0-9]+/gi, '_') || 'root';
    await page.screenshot({ path: `${out}/${name}-${width}.png`, fullPage: true });
  }
  if (violations.length) console.log(width, violations);
  await context.close();
}
await browser.close();
