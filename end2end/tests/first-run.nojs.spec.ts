// With JavaScript disabled: the first-run form must work as a plain HTML form.
import { test, expect, startSluice, type Sluice } from './sluice';

// One fresh server: the failed attempt first, then the real one.
test.describe.configure({ mode: 'serial' });

let sluice: Sluice;

test.beforeAll(async () => {
  sluice = await startSluice();
});

test.afterAll(async () => {
  await sluice?.stop();
});

const ADMIN = 'ada';
const PASSWORD = 'first-admin-pw-2024';

test('without JavaScript, mismatched passwords show the form error', async ({ page }) => {
  await page.goto(`${sluice.url}/`);

  await page.locator('input[name=username]').fill(ADMIN);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('input[name=password_confirm]').fill(`${PASSWORD}-typo`);
  await page.getByRole('button', { name: 'Create administrator' }).click();

  await expect(page.locator('.form-error')).toBeVisible();
  await expect(page.locator('.signed-in-user')).toHaveCount(0);
});

test('without JavaScript, the first-run form creates the administrator and signs them in', async ({ page }) => {
  await page.goto(`${sluice.url}/`);
  await expect(page.getByRole('heading', { name: 'Create the first administrator' })).toBeVisible();

  await page.locator('input[name=username]').fill(ADMIN);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('input[name=password_confirm]').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create administrator' }).click();

  await expect(page.locator('.signed-in-user')).toContainText(ADMIN);
  await page.goto(`${sluice.url}/`);
  await expect(page.getByText('Create the first administrator')).toHaveCount(0);
});
