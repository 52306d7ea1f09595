// With JavaScript disabled, and without signing in: the public status page is whole.
import { test, expect, startSluice, addUser, type Sluice } from './sluice';

let sluice: Sluice;

test.beforeAll(async () => {
  sluice = await startSluice();
  await addUser(sluice, 'alice', 'admin', 'correct horse battery');
  const token = await sluice.cli(['token', 'create', '--name', 'ci', '--role', 'admin']);
  const secret = token.stdout.trim().split('\n').pop()!;
  const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
  for (const [release, state] of [['33', 'active'], ['34', 'branched'], ['0', 'active']]) {
    const r = await fetch(`${sluice.url}/event?dist=fedora&release=${release}&state=${state}&reached=1`, {
      method: 'POST',
      headers,
    });
    expect(r.status).toBe(201);
  }
  const r = await fetch(`${sluice.url}/api/v1/dists/fedora/release-settings`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ public: true }),
  });
  expect(r.status).toBe(200);
});

test.afterAll(async () => {
  await sluice?.stop();
});

test('without JavaScript or signing in, the status pages list the public dist, its states and timeline', async ({ page }) => {
  await page.goto(`${sluice.url}/status`);
  await page.getByRole('link', { name: 'fedora', exact: true }).click();
  await expect(page).toHaveURL(`${sluice.url}/status/fedora`);
  await expect(page.locator('tr[data-release="34"]')).toContainText('branched');
  await expect(page.locator('tr[data-release="0"]')).toContainText('0 (rolling)');
  await expect(page.locator('svg[role=img]')).toBeVisible();
  await expect(page.locator('.signed-in-user')).toHaveCount(0);
});

test('without JavaScript, the forms show the states at a past time, a release history and a diff', async ({ page }) => {
  await page.goto(`${sluice.url}/status/fedora`);
  await page.getByLabel('At (RFC 3339; empty for now)').fill('2001-01-01T00:00:00Z');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/at=2001-01-01T00%3A00%3A00Z/);
  await expect(page.getByRole('heading', { name: 'At 2001-01-01 00:00:00 UTC' })).toBeVisible();
  await expect(page.getByText('No release is in any state.')).toBeVisible();

  await page.goto(`${sluice.url}/status/fedora`);
  await page.getByRole('link', { name: '34', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'fedora 34' })).toBeVisible();
  await expect(page.locator('table.release-history')).toContainText('still in it');

  await page.goto(`${sluice.url}/status/fedora/diff`);
  await page.getByLabel('From (RFC 3339)').fill('2001-01-01T00:00:00Z');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page.getByText('3 transitions.')).toBeVisible();
  await expect(page.locator('table.release-diff')).toContainText('entered');
});
