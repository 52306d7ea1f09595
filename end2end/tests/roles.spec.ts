import type { Page } from '@playwright/test';
import { test, expect, startSluice, addUser, signIn, waitForHydration, type Sluice } from './sluice';

let sluice: Sluice;

test.beforeAll(async () => {
  sluice = await startSluice();
  await addUser(sluice, 'alice', 'admin', 'correct horse battery');
  await addUser(sluice, 'vera', 'viewer', 'pw-vera-123456');
});

test.afterAll(async () => {
  await sluice?.stop();
});

const ADMIN_LINKS = ['Users', 'API tokens', 'Audit log'];

/** The form whose submit button is labelled `button`. */
function formWithButton(page: Page, button: string) {
  return page.locator('form').filter({ has: page.getByRole('button', { name: button, exact: true }) });
}

test.describe('a viewer', () => {
  test('sees no Users, API tokens or Audit log links in the navigation', async ({ page }) => {
    await signIn(page, sluice, 'vera', 'pw-vera-123456');
    await page.goto(`${sluice.url}/`);
    await waitForHydration(page);

    await expect(page.locator('.signed-in-user')).toContainText('vera');
    for (const name of ADMIN_LINKS) {
      await expect(page.locator('nav').getByRole('link', { name, exact: true })).toHaveCount(0);
    }
  });

  test('opening /admin/users directly gets 403 Forbidden', async ({ page }) => {
    await signIn(page, sluice, 'vera', 'pw-vera-123456');

    const response = await page.goto(`${sluice.url}/admin/users`);

    expect(response?.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Forbidden' })).toBeVisible();
  });
});

test.describe('an admin', () => {
  // The audit-log test checks entries made by the tests before it.
  test.describe.configure({ mode: 'serial' });

  test('sees Users, API tokens and Audit log links in the navigation', async ({ page }) => {
    await signIn(page, sluice, 'alice', 'correct horse battery');
    await page.goto(`${sluice.url}/`);
    await waitForHydration(page);

    for (const name of ADMIN_LINKS) {
      await expect(page.locator('nav').getByRole('link', { name, exact: true })).toBeVisible();
    }
  });

  test('creates a user with a role and sees it in the users table', async ({ page }) => {
    await signIn(page, sluice, 'alice', 'correct horse battery');
    await page.goto(`${sluice.url}/admin/users`);
    await waitForHydration(page);

    // Each table row has its own small forms (change role, disable) with hidden fields of
    // the same names, so the fields are looked up inside the form with "Create user".
    const form = formWithButton(page, 'Create user');
    await form.locator('input[name=username]').fill('quinn');
    await form.locator('input[name=password]').fill('pw-quinn-123456');
    await form.locator('select[name=role]').selectOption('qa');
    await form.getByRole('button', { name: 'Create user' }).click();

    const row = page.getByRole('row').filter({ hasText: 'quinn' });
    await expect(row).toHaveCount(1);
    // A cell reading exactly "qa": the row's role picker lists every role, so a plain
    // "row contains qa" would pass for any role.
    await expect(row.getByRole('cell', { name: 'qa', exact: true })).toBeVisible();
  });

  test('creates an API token that is shown once and authenticates /api/v1/me', async ({ page, request }) => {
    await signIn(page, sluice, 'alice', 'correct horse battery');
    await page.goto(`${sluice.url}/admin/tokens`);
    await waitForHydration(page);

    const form = formWithButton(page, 'Create token');
    await form.locator('input[name=name]').fill('ci');
    await form.locator('select[name=role]').selectOption('release-manager');
    await form.getByRole('button', { name: 'Create token' }).click();

    const shown = page.locator('.token-once');
    await expect(shown).toHaveText(/^\s*sluice_\S+/);
    const token = (await shown.innerText()).trim().match(/^sluice_\S+/)![0];

    // The token alone (no browser cookies) authenticates the API, with the token's role.
    const res = await request.get(`${sluice.url}/api/v1/me`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('application/json');
    expect(JSON.stringify(await res.json())).toContain('"role":"release-manager"');

    // Shown once: coming back to the tokens page does not reveal it again.
    await page.goto(`${sluice.url}/admin/tokens`);
    await waitForHydration(page);
    await expect(page.locator('.token-once')).toHaveCount(0);
    await expect(page.locator('body')).not.toContainText(token);
  });

  test('the audit log records user and token creation', async ({ page }) => {
    await signIn(page, sluice, 'alice', 'correct horse battery');
    await page.goto(`${sluice.url}/admin/audit`);
    await waitForHydration(page);

    await expect(page.getByRole('row').filter({ hasText: 'user.create' }).first()).toBeVisible();
    await expect(page.getByRole('row').filter({ hasText: 'token.create' }).first()).toBeVisible();
  });
});
