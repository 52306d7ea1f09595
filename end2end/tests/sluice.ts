// Shared helpers for the Sluice browser tests.
//
// Each test file starts its own Sluice server on a free port with a fresh
// SQLite database in a temporary directory (see `startSluice`), so files never
// see each other's users, tokens or audit entries.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The Sluice binary under test: $SLUICE_BIN, else <repo>/target/debug/sluice. */
export const SLUICE_BIN = process.env.SLUICE_BIN || path.join(REPO_ROOT, 'target', 'debug', 'sluice');

/** Where the server finds its compiled site (pkg/, wasm, css). */
export const SLUICE_SITE_ROOT = process.env.SLUICE_SITE_ROOT || path.join(REPO_ROOT, 'target', 'site');

const STARTUP_TIMEOUT_MS = 30_000;
const CLI_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Sluice {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its temp dir. */
  stop(): Promise<void>;
  /** Runs `sluice <args>` against the same database; `stdin` is written then closed. */
  cli(args: string[], stdin?: string): Promise<CliResult>;
  /** Everything the server has written to stderr so far. */
  stderr(): string;
}

/** Servers started in this worker, so a failing test can show their logs. */
const running = new Set<Sluice>();
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a probe socket'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function assertBinaryExists(): void {
  if (!fs.existsSync(SLUICE_BIN)) {
    throw new Error(
      `Sluice binary not found at ${SLUICE_BIN}. Build it first (cargo leptos build) ` +
        'or point SLUICE_BIN at it.',
    );
  }
}

/** Starts a fresh Sluice server (own temp dir, database and port) and waits for /healthz. */
/** `extraEnv` adds settings, e.g. `SLUICE_REHEARSAL_SPEEDUP` for fast rollout clocks. */
export async function startSluice(extraEnv: Record<string, string> = {}): Promise<Sluice> {
  assertBinaryExists();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: `sqlite://${path.join(tmpDir, 'sluice.db')}`,
    SLUICE_LISTEN: `127.0.0.1:${port}`,
    SLUICE_SITE_ROOT,
    RUST_LOG: 'warn',
    // Test webhook receivers listen on this machine, which webhooks may not reach by default.
    SLUICE_WEBHOOK_ALLOW: '127.0.0.1',
    ...extraEnv,
  };

  let serverStderr = '';
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;

  const child = spawn(SLUICE_BIN, ['serve'], { env, cwd: tmpDir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', () => {
    /* drained so the pipe never fills */
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    serverStderr += chunk;
  });
  child.on('error', (err) => {
    spawnError = err;
  });
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      children.delete(child);
      resolve();
    });
  });

  const removeTmp = () => fs.rmSync(tmpDir, { recursive: true, force: true });

  // Poll /healthz until it answers 200, the server dies, or time runs out.
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (spawnError !== null) {
      removeTmp();
      throw new Error(`could not start ${SLUICE_BIN}: ${(spawnError as Error).message}`);
    }
    if (exited !== null) {
      const { code, signal } = exited as { code: number | null; signal: NodeJS.Signals | null };
      removeTmp();
      throw new Error(
        `sluice serve exited before answering /healthz (code ${code}, signal ${signal}). stderr:\n${serverStderr}`,
      );
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) break;
      lastProblem = `GET /healthz answered ${res.status}`;
    } catch (err) {
      lastProblem = `GET /healthz failed: ${(err as Error).message}`;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exitPromise;
      removeTmp();
      throw new Error(
        `sluice serve did not answer /healthz with 200 within ${STARTUP_TIMEOUT_MS / 1000} s ` +
          `(${lastProblem}). stderr:\n${serverStderr}`,
      );
    }
    await sleep(150);
  }

  let stopped = false;
  const sluice: Sluice = {
    url,
    stderr: () => serverStderr,
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(sluice);
      if (exited === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exitPromise;
        clearTimeout(killer);
      }
      removeTmp();
    },
    cli(args: string[], stdin?: string) {
      return runCli(args, { ...env }, tmpDir, stdin);
    },
  };
  running.add(sluice);
  return sluice;
}

function runCli(args: string[], env: NodeJS.ProcessEnv, cwd: string, stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(SLUICE_BIN, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} took longer than ${CLI_TIMEOUT_MS / 1000} s. stderr:\n${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.on('error', () => {
      /* the CLI may exit without reading stdin; its exit code tells the story */
    });
    if (stdin !== undefined) child.stdin!.write(stdin);
    child.stdin!.end();
  });
}

/** Creates a user with the CLI (`sluice user add NAME --role ROLE --password-stdin`), failing loudly. */
export async function addUser(sluice: Sluice, username: string, role: string, password: string): Promise<void> {
  const result = await sluice.cli(['user', 'add', username, '--role', role, '--password-stdin'], `${password}\n`);
  if (result.code !== 0) {
    throw new Error(
      `sluice user add ${username} --role ${role} exited with ${result.code}.\n` +
        `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
}

/** Waits until the Leptos app has hydrated (js project only). */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForSelector('body[data-hydrated]');
}

/**
 * Signs in through the form at /login and waits until the header shows the user.
 * Pass `{ js: false }` in the nojs project, where the page never hydrates.
 */
export async function signIn(
  page: Page,
  sluice: Sluice,
  username: string,
  password: string,
  { js = true }: { js?: boolean } = {},
): Promise<void> {
  await page.goto(`${sluice.url}/login`);
  if (js) await waitForHydration(page);
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.locator('.signed-in-user')).toContainText(username);
  if (js) await waitForHydration(page);
}

/**
 * The `test` to use in spec files: Playwright's own, plus automatic fixtures that fail
 * a test whose page panics or throws, and that, when a test fails, attaches the page's URL, text and HTML and the server's
 * stderr to the report (under test-results/).
 */
export const test = base.extend<{ diagnostics: void; noPageErrors: void }>({
  // A page whose client code panics (e.g. a hydration mismatch between the server build
  // and the wasm) can still look fine because its forms fall back to plain posts; so any
  // uncaught page error, Rust panic or Content-Security-Policy violation logged to the
  // console fails the test.
  noPageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`uncaught error on ${page.url()}: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' && message.text().includes('panicked at')) {
          errors.push(`panic logged on ${page.url()}: ${message.text().split('\n').slice(0, 3).join(' ')}`);
        }
        // The page's Content-Security-Policy must allow everything the console itself does.
        if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
          errors.push(`policy violation on ${page.url()}: ${message.text().slice(0, 300)}`);
        }
      });
      await use();
      expect(errors, 'the page reported errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
  diagnostics: [
    async ({ page }, use, testInfo) => {
      await use();
      if (testInfo.status === testInfo.expectedStatus) return;
      try {
        await testInfo.attach('page-url.txt', { body: page.url(), contentType: 'text/plain' });
        const text = (await page.locator('body').innerText({ timeout: 2_000 })).slice(0, 4_000);
        await testInfo.attach('page-text.txt', { body: text || '(empty)', contentType: 'text/plain' });
        const htmlPath = testInfo.outputPath('page.html');
        fs.writeFileSync(htmlPath, await page.content());
        await testInfo.attach('page.html', { path: htmlPath, contentType: 'text/html' });
      } catch {
        /* the page may already be gone */
      }
      for (const sluice of running) {
        await testInfo.attach('sluice-stderr.txt', { body: sluice.stderr() || '(empty)', contentType: 'text/plain' });
      }
    },
    { auto: true },
  ],
});

export { expect };
