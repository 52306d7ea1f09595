// With JavaScript disabled: the plain HTML forms must work on their own.
import { test, expect, startSluice, addUser, signIn, type Sluice } from './sluice';

let sluice: Sluice;

test.beforeAll(async () => {
  sluice = await startSluice();
  await addUser(sluice, 'alice', 'admin', 'correct horse battery');
});

test.afterAll(async () => {
  await sluice?.stop();
});

test('without JavaScript, the sign-in form signs alice in and lands on the home page', async ({ page }) => {
  await page.goto(`${sluice.url}/login`);

  await page.locator('input[name=username]').fill('alice');
  await page.locator('input[name=password]').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();

  await expect(page).toHaveURL(`${sluice.url}/`);
  await expect(page.locator('.signed-in-user')).toHaveText('alice');
});

test('without JavaScript, a wrong password shows the form error', async ({ page }) => {
  await page.goto(`${sluice.url}/login`);

  await page.locator('input[name=username]').fill('alice');
  await page.locator('input[name=password]').fill('incorrect horse');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();

  await expect(page.locator('.form-error')).toHaveText('Wrong username or password.');
  await expect(page.locator('.signed-in-user')).toHaveCount(0);
});

test('without JavaScript, the Sign out button signs alice out', async ({ page }) => {
  await signIn(page, sluice, 'alice', 'correct horse battery', { js: false });
  await page.goto(`${sluice.url}/`);

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();

  await expect(page.locator('.signed-in-user')).toHaveCount(0);
  await page.goto(`${sluice.url}/admin/users`);
  await expect(page.getByText('Sign in required', { exact: true })).toBeVisible();
});
