// Browser tests against the real stack (docs/web-app.md, "Browser tests"): Playwright drives Debian's Chromium
// (/usr/bin/chromium, or CHROMIUM); no browser is downloaded. `npm run test:e2e` starts ./run.sh on its own ports
// (e2e/stack.ts), waits for /readyz, runs e2e/*.spec.ts and stops the stack with TERM (run.sh stops what it started).
import { defineConfig } from '@playwright/test';
import { APP_URL, external, ROOT, runShEnv } from './e2e/stack';

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  // Renders take ~15 s alone and minutes on a loaded two-core machine: the render specs set their own, longer, limit.
  timeout: 180_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: Number(process.env.FENTA_E2E_WORKERS ?? 2),
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list'], ['json', { outputFile: 'e2e-artifacts/report.json' }]],
  use: {
    baseURL: APP_URL,
    viewport: { width: 1280, height: 800 },
    // Azurite serves the SAS links over HTTPS with run.sh's self-signed certificate (docs/web-app.md).
    ignoreHTTPSErrors: true,
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      // Without the background-networking flags Chromium keeps calling Google's hosts, which this network refuses.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: external
    ? undefined
    : {
        command: 'bash ./run.sh',
        cwd: ROOT,
        env: runShEnv(),
        url: `${APP_URL}/readyz`,
        // A fresh folder builds, draws the stock library and initializes PostgreSQL first.
        timeout: 15 * 60_000,
        reuseExistingServer: false,
        stdout: 'pipe',
        stderr: 'pipe',
        // run.sh traps TERM and stops the API and workers, then MailDev, Azurite and PostgreSQL.
        gracefulShutdown: { signal: 'SIGTERM', timeout: 60_000 },
      },
});
