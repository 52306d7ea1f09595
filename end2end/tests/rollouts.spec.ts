import { test, expect, startSluice, addUser, signIn, waitForHydration, type Sluice } from './sluice';

// A release manager's rollout in the console: start it from the form, watch it advance on its
// own (the server runs a rehearsal clock: a policy minute lasts 100 ms), then halt it from the
// page. The page updates itself; nothing here reloads it.
test.describe.configure({ mode: 'serial' });

const PASSWORD = 'correct horse battery';
const OLD = 'master-2017-08-24-123456';
const NEW = 'master-2017-08-26-891011';

let sluice: Sluice;

test.beforeAll(async ({ request }) => {
  sluice = await startSluice({ SLUICE_REHEARSAL_SPEEDUP: '600' });
  await addUser(sluice, 'rita', 'release-manager', PASSWORD);
  const created = await sluice.cli(['token', 'create', '--name', 'ci', '--role', 'admin']);
  expect(created.code, created.stderr).toBe(0);
  const token = created.stdout.trim().split('\n').pop()!;
  const headers = { Authorization: `Bearer ${token}` };
  const dist = await request.post(`${sluice.url}/api/v1/dists`, {
    headers,
    data: { name: 'recalbox', version_scheme: 'dated', stable_channel: 'stable', stable_branch: 'master' },
  });
  expect(dist.status()).toBe(201);
  for (const version of [OLD, NEW]) {
    const build = await request.post(`${sluice.url}/api/v1/builds`, {
      headers,
      data: {
        dist: 'recalbox', branch: 'master', version, base_url: `https://${version}.example.com`,
        boards: { rpi3: { files: [{ name: 'root.tar.gz', size: 1024, sha256: 'a'.repeat(64) }] } },
      },
    });
    expect(build.status()).toBe(201);
  }
  const published = await request.post(`${sluice.url}/api/v1/channels/recalbox/stable/publish`, {
    headers,
    data: { version: OLD },
  });
  expect(published.status()).toBe(200);
});

test.afterAll(async () => {
  await sluice?.stop();
});

test('a release manager starts a rollout, watches it advance, and halts it', async ({ page, request }) => {
  await signIn(page, sluice, 'rita', PASSWORD);
  await page.goto(`${sluice.url}/dists/recalbox`);
  await page.getByRole('link', { name: 'Rollouts of recalbox' }).click();
  await expect(page.getByRole('heading', { name: 'Rollouts of recalbox', level: 1 })).toBeVisible();
  // Publishing OLD was the one-step rollout: it is listed, completed.
  await expect(page.getByRole('row').filter({ hasText: OLD })).toContainText('completed');
  await waitForHydration(page);

  const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Start rollout' }) });
  await form.locator('input[name=version]').fill(NEW);
  await form.locator('input[name=steps]').fill('10:5, 50:100000, 100');
  await form.locator('input[name=min_reports]').fill('0');
  await form.locator('input[name=max_grants_per_hour]').fill('500');
  await form.getByRole('button', { name: 'Start rollout' }).click();

  await expect(page).toHaveURL(/\/rollouts\/\d+$/);
  await expect(page.getByRole('heading', { name: new RegExp(`Rollout #\\d+ of ${NEW}`) })).toBeVisible();
  const now = page.locator('.rollout-now');
  await expect(now).toContainText('running');

  // Step 1 holds 5 policy minutes (half a second here) and has no health gate: it advances
  // by itself, and the page shows it without a reload.
  await expect(now.locator('.percent')).toHaveText('50%', { timeout: 20_000 });
  await expect(page.getByRole('row').filter({ hasText: 'step 1 held its time' })).toBeVisible();

  // What the page shows of it: the hold countdown of step 2, both charts with the failure
  // threshold drawn as a line, and how close the caps are.
  await expect(now.locator('.countdown')).toContainText('hold ends in');
  await expect(page.getByRole('img', { name: /Percent of the channel offered the build over time; now 50%/ })).toBeVisible();
  await expect(page.getByRole('img', { name: 'Failure ratio per step; the line is the 5.0% limit' })).toBeVisible();
  await expect(page.locator('svg.chart line.threshold')).toHaveCount(1);
  await expect(page.locator('.cap-grants')).toContainText('of 500');
  await expect(page.locator('.cap-in-flight')).toContainText('(no cap)');

  // A device in the 50% cohort is offered the build while it runs.
  await page.getByLabel('Device uuid').fill('012456789');
  await page.getByRole('button', { name: 'Show bucket' }).click();
  await expect(page.locator('.bucket-answer')).toContainText('Device 012456789 has bucket');

  await page.getByText('Halt', { exact: true }).click();
  const halt = page.locator('form').filter({ has: page.getByRole('button', { name: 'Confirm: halt' }) });
  await halt.locator('input[name=reason]').fill('boot loop on rpi3');
  await halt.getByRole('button', { name: 'Confirm: halt' }).click();
  await expect(now).toContainText('halted');
  await expect(page.getByRole('row').filter({ hasText: 'boot loop on rpi3' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'halted by rita' })).toBeVisible();

  // Halted: no device is offered the build any more.
  const check = await request.get(
    `${sluice.url}/v1/upgrade?arch=rpi3&branch=stable&boardversion=${OLD}&uuid=never-seen&user=x`,
  );
  expect(check.status()).toBe(204);
});

// Opened directly (not by a link), the page is rendered on the server and hydrated. Its data
// once came from two server calls in a row, the second of which lost the request's context on
// the server now and then: the page then failed to hydrate (the page-error check catches that).
test('the rollouts page hydrates whenever it is opened directly', async ({ page }) => {
  await signIn(page, sluice, 'rita', PASSWORD);
  for (let i = 0; i < 8; i++) {
    await page.goto(`${sluice.url}/dists/recalbox/rollouts`);
    await waitForHydration(page);
    await expect(page.getByRole('heading', { name: 'Rollouts of recalbox', level: 1 })).toBeVisible();
  }
});
