import type { Page } from '@playwright/test';
import { test, expect, startSluice, addUser, signIn, waitForHydration, type Sluice } from './sluice';

// The release flow in the console: an admin creates the recalbox dist, registers a build by
// hand, publishes it to stable, a device is offered it, and the device shows up on the
// devices page. Each test builds on the one before it.
test.describe.configure({ mode: 'serial' });

const PASSWORD = 'correct horse battery';
const VERSION = 'master-2017-08-26-891011';
const SHA256 = 'a'.repeat(64);
const DEVICE_CHECK =
  '/v1/upgrade?arch=rpi3&branch=stable&boardversion=master-2017-08-24-123456&uuid=012456789&user=me';

let sluice: Sluice;

test.beforeAll(async () => {
  sluice = await startSluice();
  await addUser(sluice, 'alice', 'admin', PASSWORD);
});

test.afterAll(async () => {
  await sluice?.stop();
});

/** The form whose submit button is labelled `button`. */
function formWithButton(page: Page, button: string) {
  return page.locator('form').filter({ has: page.getByRole('button', { name: button, exact: true }) });
}

/** Fails when the page is wider than the viewport (a table must scroll inside its box instead). */
async function expectNoSidewaysScroll(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'the page scrolls sideways').toBeLessThanOrEqual(0);
}

test('an admin creates the recalbox dist from the Dists page', async ({ page }) => {
  await signIn(page, sluice, 'alice', PASSWORD);
  await page.locator('nav').getByRole('link', { name: 'Dists', exact: true }).click();
  await expect(page).toHaveURL(`${sluice.url}/dists`);
  await expect(page.getByRole('heading', { name: 'Dists', level: 1 })).toBeVisible();
  await waitForHydration(page);

  const form = formWithButton(page, 'Create dist');
  await form.locator('input[name=name]').fill('recalbox');
  await form.locator('select[name=version_scheme]').selectOption('dated');
  await expect(form.locator('input[name=stable_channel]')).toHaveValue('stable');
  await expect(form.locator('input[name=stable_branch]')).toHaveValue('master');
  await form.getByRole('button', { name: 'Create dist' }).click();

  const row = page.getByRole('row').filter({ hasText: 'recalbox' });
  await expect(row.getByRole('link', { name: 'recalbox' })).toBeVisible();
  await expect(row).toContainText('dated');
  await expect(row).toContainText('stable ← master');
});

test('a build registered by hand is published to stable and offered to a device', async ({ page, request }) => {
  await signIn(page, sluice, 'alice', PASSWORD);
  await page.goto(`${sluice.url}/dists/recalbox`);
  await waitForHydration(page);

  const form = formWithButton(page, 'Register build');
  await expect(form.locator('input[name=branch]')).toHaveValue('master');
  await form.locator('input[name=version]').fill(VERSION);
  await form.locator('input[name=base_url]').fill(`https://${VERSION}-archive.recalbox.com`);
  await form.locator('input[name=board]').fill('rpi3');
  await form.locator('input[name=file1_name]').fill('root.tar.gz');
  await form.locator('input[name=file1_size]').fill('157286400');
  await form.locator('input[name=file1_sha256]').fill(SHA256);
  await form.getByRole('button', { name: 'Register build' }).click();

  // The new build is listed, and the notice links to its page.
  await expect(page.getByRole('row').filter({ hasText: VERSION })).toHaveCount(1);
  await page.getByRole('status').getByRole('link', { name: 'Open its page' }).click();
  await expect(page.getByRole('heading', { name: `Build ${VERSION}`, level: 1 })).toBeVisible();
  await expect(page.getByRole('cell', { name: '150.0 MiB' })).toBeVisible();
  await expect(page.locator('dl.facts')).toContainText('not published');

  // Not offered before it is published.
  expect((await request.get(`${sluice.url}${DEVICE_CHECK}`)).status()).toBe(204);

  // Publishing takes two steps, done here with the keyboard alone.
  await page.locator('summary', { hasText: 'Publish to stable' }).press('Enter');
  const confirm = page.getByRole('button', { name: 'Confirm: publish to stable' });
  await expect(confirm).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(confirm).toBeFocused();
  await page.keyboard.press('Enter');

  await expect(page.locator('dl.facts')).toContainText('stable');
  await expect(page.locator('dl.facts')).not.toContainText('not published');
  await expect(page.locator('summary', { hasText: 'Publish to stable' })).toHaveCount(0);

  const offer = await request.get(`${sluice.url}${DEVICE_CHECK}`);
  expect(offer.status()).toBe(200);
  expect((await offer.json()).version).toBe(VERSION);
});

test('the device that checked appears on the devices page', async ({ page }) => {
  await signIn(page, sluice, 'alice', PASSWORD);
  await page.goto(`${sluice.url}/dists/recalbox`);
  await page.getByRole('link', { name: 'Devices of recalbox' }).click();
  await expect(page).toHaveURL(`${sluice.url}/dists/recalbox/devices`);

  // Check-ins are written in batches every second: reload until it is there.
  const device = page.getByRole('link', { name: '012456789', exact: true });
  await expect(async () => {
    await page.reload();
    await expect(device).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 10_000 });
  await waitForHydration(page);

  // The chart says in words how many devices run which version.
  await expect(page.locator('figure.bar-chart')).toContainText('rpi3');
  await expect(page.locator('figure.bar-chart li')).toContainText(['master-2017-08-24-123456']);
  await expect(page.locator('figure.bar-chart li')).toContainText(['1 device']);
  const row = page.getByRole('row').filter({ has: device });
  await expect(row).toContainText(VERSION); // the last offer

  // The uuid search finds it by prefix and nothing for another.
  await page.locator('input[name=uuid]').fill('0124');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/uuid=0124/);
  await expect(device).toBeVisible();

  await device.click();
  await expect(page.getByRole('heading', { name: 'Device 012456789', level: 1 })).toBeVisible();
  await expect(page.getByText('This device has not reported an update yet.')).toBeVisible();
});

test('the pages fit a 375 px wide phone', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await signIn(page, sluice, 'alice', PASSWORD);
  for (const path of ['/dists', '/dists/recalbox', '/dists/recalbox/devices']) {
    await page.goto(`${sluice.url}${path}`);
    await waitForHydration(page);
    await expectNoSidewaysScroll(page);
  }
  await page.goto(`${sluice.url}/dists/recalbox`);
  await page.getByRole('link', { name: VERSION }).click();
  await expect(page.getByRole('heading', { name: `Build ${VERSION}` })).toBeVisible();
  await expectNoSidewaysScroll(page);
});

// Opened directly, the build page is rendered on the server and hydrated. Its data once came
// from two server calls in a row, the second of which lost the request's context on the
// server now and then: the page then failed to hydrate (the page-error check catches that).
test('the build page hydrates whenever it is opened directly', async ({ page }) => {
  await signIn(page, sluice, 'alice', PASSWORD);
  await page.goto(`${sluice.url}/dists/recalbox`);
  await waitForHydration(page);
  const href = await page.getByRole('link', { name: VERSION }).getAttribute('href');
  for (let i = 0; i < 8; i++) {
    await page.goto(`${sluice.url}${href}`);
    await waitForHydration(page);
    await expect(page.getByRole('heading', { name: `Build ${VERSION}` })).toBeVisible();
  }
});

test('withdrawing asks for a reason and stops the offer', async ({ page, request }) => {
  await signIn(page, sluice, 'alice', PASSWORD);
  await page.goto(`${sluice.url}/dists/recalbox`);
  await waitForHydration(page);
  await page.getByRole('link', { name: VERSION }).click();
  await expect(page.getByRole('heading', { name: `Build ${VERSION}` })).toBeVisible();

  await page.locator('summary', { hasText: 'Withdraw' }).click();
  await page.locator('input[name=reason]').fill('bricks some boards');
  await page.getByRole('button', { name: 'Confirm: withdraw' }).click();

  await expect(page.getByRole('status')).toContainText('Withdrawn');
  await expect(page.locator('summary', { hasText: 'Withdraw' })).toHaveCount(0);
  expect((await request.get(`${sluice.url}${DEVICE_CHECK}`)).status()).toBe(204);
});
