import { test, expect, startSluice, waitForHydration, type Sluice } from './sluice';

// The tests in this file share one fresh server and build on each other:
// nothing exists at first, then the first administrator is created.
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

test('a fresh server greets visitors with the first-administrator form and no navigation', async ({ page }) => {
  await page.goto(`${sluice.url}/`);
  await waitForHydration(page);

  await expect(page.getByRole('heading', { name: 'Create the first administrator' })).toBeVisible();
  await expect(page.locator('nav a')).toHaveCount(0);
});

test('mismatched passwords show an error and create no administrator', async ({ page }) => {
  await page.goto(`${sluice.url}/`);
  await waitForHydration(page);

  await page.locator('input[name=username]').fill(ADMIN);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('input[name=password_confirm]').fill(`${PASSWORD}-typo`);
  await page.getByRole('button', { name: 'Create administrator' }).click();

  await expect(page.locator('.form-error')).toBeVisible();
  await expect(page.locator('.signed-in-user')).toHaveCount(0);

  // Nothing was created: a new visit still offers the first-run form.
  await page.goto(`${sluice.url}/`);
  await waitForHydration(page);
  await expect(page.getByRole('heading', { name: 'Create the first administrator' })).toBeVisible();
});

test('creating the first administrator signs them in', async ({ page }) => {
  await page.goto(`${sluice.url}/`);
  await waitForHydration(page);

  await page.locator('input[name=username]').fill(ADMIN);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('input[name=password_confirm]').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create administrator' }).click();

  await expect(page.locator('.signed-in-user')).toContainText(ADMIN);

  // Coming back to / keeps them signed in and no longer offers the form.
  await page.goto(`${sluice.url}/`);
  await waitForHydration(page);
  await expect(page.locator('.signed-in-user')).toContainText(ADMIN);
  await expect(page.getByText('Create the first administrator')).toHaveCount(0);
});

test('once an administrator exists, visitors are never offered the first-run form', async ({ page }) => {
  await page.goto(`${sluice.url}/`);
  await waitForHydration(page);

  await expect(page.getByText('Create the first administrator')).toHaveCount(0);
  await expect(page.locator('input[name=password_confirm]')).toHaveCount(0);
});
