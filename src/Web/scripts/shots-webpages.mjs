// Screenshots of the settings, templates, schedules and billing pages at 1280x800 and 390x844, signed in as the demo
// user of ./run.sh. BASE (default http://127.0.0.1:8080), EMAIL, PASSWORD, OUT (default /tmp/wp-shots).
import { chromium } from '@playwright/test';
import { mkdirSync } from 'node:fs';

const base = process.env.BASE ?? 'http://127.0.0.1:8080';
const out = process.env.OUT ?? '/tmp/wp-shots';
const pages = (process.env.PAGES ?? '/settings/members,/settings/api-keys,/settings/webhooks,/templates,/templates?tab=workflows,/schedules,/schedules/new,/billing').split(',');
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const errors = [];
for (const [w, h] of [
  [1280, 800],
  [390, 844],
]) {
  const ctx = await browser.newContext({ viewport: { width: w, height: h } });
  const page = await ctx.newPage();
  page.on('console', (m) => m.type() === 'error' && errors.push(`${w}: ${m.text()}`));
  page.on('pageerror', (e) => errors.push(`${w}: ${e.message}`));
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Email').fill(process.env.EMAIL ?? 'demo@fentaweb.local');
  await page.getByLabel('Password').fill(process.env.PASSWORD ?? '');
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/sign-in'), { timeout: 20000 });
  for (const p of pages) {
    // Navigate inside the app: the session lives in memory (and an API without the refresh cookie loses it on reload).
    await page.evaluate((to) => {
      window.history.pushState({}, '', to);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, p);
    await page.waitForLoadState('networkidle').catch(() => {});
    await page.waitForTimeout(800);
    const name = `${p.replace(/^\//, '').replace(/[/?=&]+/g, '_') || 'home'}-${w}.png`;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${out}/${name}`, fullPage: true });
    console.log(`${out}/${name}`);
  }
  if (process.env.EXTRA) await (await import(process.env.EXTRA)).default(page, `${out}`, w);
  await ctx.close();
}
await browser.close();
if (errors.length) console.log('console errors:\n' + [...new Set(errors)].join('\n'));
