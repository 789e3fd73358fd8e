// Screenshots of every page at 1280x800 and 390x844, against a running app (the API serving dist/, or `vite preview`
// with its /v1 proxy). Registers a fresh user through the UI, creates a video, and waits for it.
//   FENTA_APP_URL=http://127.0.0.1:8080 node scripts/screenshots.mjs [out-dir]
// Uses Debian's chromium (/usr/bin/chromium); never downloads a browser.
import { chromium } from '@playwright/test';
import { mkdirSync } from 'node:fs';

const base = process.env.FENTA_APP_URL ?? 'http://127.0.0.1:8080';
const out = process.argv[2] ?? 'screenshots';
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--ignore-certificate-errors'],
});
const sizes = { desktop: { width: 1280, height: 800 }, mobile: { width: 390, height: 844 } };
const context = await browser.newContext({ viewport: sizes.desktop, ignoreHTTPSErrors: true });
const page = await context.newPage();
page.on('pageerror', (e) => console.error('pageerror:', e.message));

// In-app navigation keeps the in-memory session (a full load needs the refresh cookie).
async function go(path) {
  await page.evaluate((p) => {
    window.history.pushState({}, '', p);
    window.dispatchEvent(new PopStateEvent('popstate'));
  }, path);
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForTimeout(600);
}

async function shoot(name) {
  for (const [size, viewport] of Object.entries(sizes)) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => {
      (document.activeElement instanceof HTMLElement) && document.activeElement.blur();
      window.scrollTo(0, 0);
    });
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${out}/${name}-${size}.png`, fullPage: true });
  }
  await page.setViewportSize(sizes.desktop);
}

await page.goto(`${base}/sign-in`);
await page.getByRole('heading', { name: 'Sign in' }).waitFor();
await shoot('sign-in');
await page.getByRole('button', { name: 'Sign in' }).click();
await shoot('sign-in-errors');
await go('/forgot-password');
await shoot('forgot-password');
await go('/reset-password?token=x');
await shoot('reset-password');
await go('/register');
await page.getByLabel('Name').fill('Ada Lovelace');
await page.getByLabel('Email').fill(`ada+${Date.now()}@example.com`);
await page.getByLabel('Password').fill('short');
await page.getByRole('button', { name: 'Create account' }).click();
await shoot('register-errors');
await page.getByLabel('Password').fill('correct horse battery staple');
await page.getByRole('button', { name: 'Create account' }).click();
await page.getByRole('heading', { name: /Hello/ }).waitFor({ timeout: 15000 });
await page.waitForTimeout(1000);
await shoot('dashboard-empty');

await go('/create');
await page.getByRole('radiogroup', { name: 'Template' }).waitFor();
await page.getByRole('radio', { name: /Shorts Clean Bold/ }).click();
await page.getByLabel('Topic or prompt').fill('Three surprising facts about octopuses');
await page.getByLabel('Length (seconds)').fill('12');
await page.waitForTimeout(2000);
await shoot('create');
await page.getByRole('radio', { name: /AI video/ }).click();
await page.waitForTimeout(800);
await shoot('create-ai-video');
await page.getByRole('radio', { name: /Stock footage/ }).click();
await page.getByRole('button', { name: 'Create video' }).click();
await page.waitForURL(/\/jobs\//, { timeout: 15000 });
await page.waitForTimeout(2500);
await shoot('job-running');
await page.getByText('completed', { exact: true }).first().waitFor({ timeout: 240000 }).catch(() => console.error('job did not complete in time'));
await page.waitForTimeout(2000);
await shoot('job-done');
await page.getByRole('button', { name: 'Copy as API call' }).click();
await page.waitForTimeout(500);
await page.screenshot({ path: `${out}/job-api-call-desktop.png` });
await page.keyboard.press('Escape');

await go('/');
await page.waitForTimeout(1000);
await shoot('dashboard');
await go('/library');
await shoot('library');
await go('/assets');
await shoot('assets');
await go('/settings');
await shoot('placeholder');

await page.setViewportSize(sizes.mobile);
await go('/');
await page.getByRole('button', { name: 'Open menu' }).click();
await page.waitForTimeout(400);
await page.screenshot({ path: `${out}/menu-mobile.png` });

await browser.close();
console.log(`screenshots in ${out}`);
