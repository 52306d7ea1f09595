import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect, startSluice, addUser, signIn, waitForHydration, type Sluice } from './sluice';

// An admin adds a webhook in the console, copies its secret, sees a delivery arrive in the log
// and sends it again.
const PASSWORD = 'correct horse battery';
let sluice: Sluice;
let receiver: http.Server;
const received: string[] = [];

test.beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  sluice = await startSluice();
  await addUser(sluice, 'alice', 'admin', PASSWORD);
});

test.afterAll(async () => {
  await sluice?.stop();
  receiver?.close();
});

test('an admin adds a webhook, reads its delivery log and sends a delivery again', async ({ page }) => {
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await signIn(page, sluice, 'alice', PASSWORD);
  await page.getByRole('link', { name: 'Webhooks' }).first().click();
  await expect(page).toHaveURL(/\/admin\/webhooks$/);
  await waitForHydration(page);
  await page.getByLabel('URL (http or https)').fill(url);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status')).toContainText('shown only once');
  await expect(page.locator('code.token-once')).toHaveText(/^[0-9a-f]{64}$/);
  await expect(page.getByRole('link', { name: url })).toBeVisible();

  const event = await page.request.post(`${sluice.url}/event?dist=fedora&release=34&state=branched&reached=1`, {
    headers: { origin: sluice.url },
  });
  expect(event.status()).toBe(201);
  await expect.poll(() => received.length).toBe(1);

  await page.getByRole('link', { name: url }).click();
  await waitForHydration(page);
  await expect(page.locator('td.outcome-delivered')).toBeVisible();
  await expect(page.locator('table')).toContainText('sluice.release.state.entered');
  await page.getByRole('button', { name: 'Send again' }).click();
  await expect(page.getByRole('status')).toContainText('Queued again');
  await expect.poll(() => received.length).toBe(2);
  expect(received[1]).toBe(received[0]);
  await expect(async () => {
    await page.reload();
    await expect(page.locator('td.outcome-delivered')).toHaveCount(2, { timeout: 1_000 });
  }).toPass();
});
