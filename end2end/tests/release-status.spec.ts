import type { Page } from '@playwright/test';
import { test, expect, startSluice, addUser, signIn, waitForHydration, type Sluice } from './sluice';

// The release stream in the browser: a release manager records an event in the console and the
// public status page, open in another tab without signing in, changes without a reload.
test.describe.configure({ mode: 'serial' });

const PASSWORD = 'correct horse battery';
let sluice: Sluice;

test.beforeAll(async () => {
  sluice = await startSluice();
  await addUser(sluice, 'alice', 'admin', PASSWORD);
});

test.afterAll(async () => {
  await sluice?.stop();
});

function formWithButton(page: Page, button: string) {
  return page.locator('form').filter({ has: page.getByRole('button', { name: button, exact: true }) });
}

async function record(page: Page, release: string, state: string, note: string) {
  const form = formWithButton(page, 'Record');
  await form.locator('input[name=release]').fill(release);
  await form.locator('input[name=state]').fill(state);
  await form.locator('textarea[name=note]').fill(note);
  await form.getByRole('button', { name: 'Record', exact: true }).click();
  await expect(page.getByRole('status')).toContainText(`${release} ${state} 0-1`);
}

test('an admin records the first event, which creates the dist, and makes it public', async ({ page }) => {
  await signIn(page, sluice, 'alice', PASSWORD);
  await page.goto(`${sluice.url}/dists/fedora/releases`);
  // The dist does not exist yet: the page says so.
  await expect(page.getByText('404')).toBeVisible();
  // The ticket's form creates it.
  const created = await page.request.post(`${sluice.url}/event?dist=fedora&release=33&state=active&reached=1`, {
    headers: { origin: sluice.url },
  });
  expect(created.status()).toBe(201);
  await page.goto(`${sluice.url}/dists/fedora/releases`);
  await waitForHydration(page);
  const settings = formWithButton(page, 'Save');
  await settings.locator('input[name=public]').check();
  await settings.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(settings.locator('input[name=public]')).toBeChecked();
  const json = await page.request.get(`${sluice.url}/release.json`);
  expect(await json.json()).toEqual({ fedora: { stable: [], branched: [] } });
});

test('the public status page changes without a reload when an event is recorded', async ({ browser }) => {
  const publicContext = await browser.newContext();
  const visitor = await publicContext.newPage();
  await visitor.goto(`${sluice.url}/status/fedora`);
  await waitForHydration(visitor);
  await expect(visitor.locator('tr[data-release="33"]')).toContainText('active');
  await expect(visitor.locator('tr[data-release="34"]')).toHaveCount(0);

  const managerContext = await browser.newContext();
  const manager = await managerContext.newPage();
  await signIn(manager, sluice, 'alice', PASSWORD);
  await manager.goto(`${sluice.url}/dists/fedora/releases`);
  await waitForHydration(manager);
  await record(manager, '34', 'branched', 'mass branching');
  await expect(manager.locator('table.release-events')).toContainText('mass branching');
  await expect(manager.locator('table.release-events')).toContainText('alice');

  // The visitor's page follows the live stream: no reload.
  await expect(visitor.locator('tr[data-release="34"]')).toContainText('branched');
  await expect(visitor.locator('svg')).toContainText('34 · branched');
  await publicContext.close();
  await managerContext.close();
});
