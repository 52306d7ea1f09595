import { defineConfig } from '@playwright/test';

// Debian's Chromium; `npx playwright install` cannot download browsers here.
const chromiumLaunch = {
  executablePath: process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

const NOJS_FILES = /.*\.nojs\.spec\.ts$/;

export default defineConfig({
  testDir: 'tests',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  // Debug builds hash passwords slowly; give each assertion some room.
  expect: { timeout: 15_000 },
  reporter: 'list',
  use: {
    headless: true,
    launchOptions: chromiumLaunch,
    screenshot: 'only-on-failure',
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
  projects: [
    {
      name: 'js',
      testIgnore: NOJS_FILES,
      use: { javaScriptEnabled: true },
    },
    {
      name: 'nojs',
      testMatch: NOJS_FILES,
      use: { javaScriptEnabled: false },
    },
  ],
});
