import { test, expect, startSluice, addUser, signIn, waitForHydration, type Sluice } from './sluice';

let sluice: Sluice;

test.beforeAll(async () => {
  sluice = await startSluice();
  await addUser(sluice, 'alice', 'admin', 'correct horse battery');
});

test.afterAll(async () => {
  await sluice?.stop();
});

test('a wrong password is refused with "Wrong username or password."', async ({ page }) => {
  await page.goto(`${sluice.url}/login`);
  await waitForHydration(page);

  await page.locator('input[name=username]').fill('alice');
  await page.locator('input[name=password]').fill('incorrect horse');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();

  await expect(page.locator('.form-error')).toHaveText('Wrong username or password.');
  await expect(page.locator('.signed-in-user')).toHaveCount(0);
});

test('the right password signs alice in and lands on the home page', async ({ page }) => {
  await page.goto(`${sluice.url}/login`);
  await waitForHydration(page);

  await page.locator('input[name=username]').fill('alice');
  await page.locator('input[name=password]').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();

  await expect(page).toHaveURL(`${sluice.url}/`);
  await expect(page.locator('.signed-in-user')).toHaveText('alice');
});

test('signing out returns to sign-in and hides the admin pages', async ({ page }) => {
  await signIn(page, sluice, 'alice', 'correct horse battery');
  await page.goto(`${sluice.url}/`);
  await waitForHydration(page);

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();

  await expect(page.locator('.signed-in-user')).toHaveCount(0);
  await expect(async () => {
    const atLogin = new URL(page.url()).pathname === '/login';
    const offersSignIn = await page.getByRole('link', { name: 'Sign in', exact: true }).isVisible();
    expect(atLogin || offersSignIn, `after sign-out the page is ${page.url()}`).toBe(true);
  }).toPass({ timeout: 10_000 });

  await page.goto(`${sluice.url}/admin/users`);
  await expect(page.getByText('Sign in required', { exact: true })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'alice' })).toHaveCount(0);
});
