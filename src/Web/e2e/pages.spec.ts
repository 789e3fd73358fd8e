// Spec 6: every page at 1280x800 and 390x844, a full-page screenshot of each kept in e2e-artifacts/screenshots/, and
// axe-core finding no serious or critical violation on any of them.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiToken, load, navigate, newUser, signUpVerified, waitForFinishedJob } from './helpers';
import { APP_URL } from './stack';

const SIZES = { desktop: { width: 1280, height: 800 }, mobile: { width: 390, height: 844 } } as const;
const OUT = resolve(import.meta.dirname, '../e2e-artifacts/screenshots');

type Finding = { page: string; size: string; id: string; impact: string; help: string; targets: string[] };

async function check(page: Page, name: string, ready: (page: Page) => Locator, findings: Finding[]) {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    await expect(ready(page)).toBeVisible();
    // Nothing still loading: skeletons and spinners gone (polls may run on; they do not change the layout).
    await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
    await page.evaluate(() => {
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
      window.scrollTo(0, 0);
    });
    await page.screenshot({ path: `${OUT}/${name}-${size}.png`, fullPage: true, animations: 'disabled' });
    const result = await new AxeBuilder({ page }).analyze();
    for (const v of result.violations)
      if (v.impact === 'serious' || v.impact === 'critical')
        findings.push({ page: name, size, id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) });
  }
  await page.setViewportSize(SIZES.desktop);
}

const h1 = (name: string | RegExp) => (page: Page) => page.getByRole('heading', { level: 1, name });

test('every page: screenshots at both sizes, no serious or critical axe violation', async ({ page }) => {
  test.setTimeout(8 * 60_000);
  mkdirSync(OUT, { recursive: true });
  const findings: Finding[] = [];

  // Signed out.
  await page.goto('/sign-in');
  await check(page, 'sign-in', h1('Sign in'), findings);
  await page.goto('/register');
  await check(page, 'register', h1('Create your account'), findings);
  await page.goto('/forgot-password');
  await check(page, 'forgot-password', (p) => p.getByRole('heading', { level: 1 }), findings);
  await page.goto('/reset-password?token=not-a-real-token');
  await check(page, 'reset-password', (p) => p.getByRole('heading', { level: 1 }), findings);
  await page.goto('/verify-email');
  await check(page, 'verify-email', h1('Verify your email'), findings);
  await page.goto('/accept-invitation?token=not-a-real-token');
  await check(page, 'accept-invitation', h1('Join an organization'), findings);

  // Signed in, with a finished job for the job page, the dashboard and the library.
  const user = newUser('pages');
  await signUpVerified(page, user);
  await check(page, 'dashboard-empty', h1(/^Hello/), findings);

  await navigate(page, 'Create');
  await page.getByRole('radio', { name: /Shorts Clean Bold/ }).click();
  await page.getByLabel('Topic or prompt').fill('Why the sky is blue, in one breath');
  await page.getByLabel('Length (seconds)').fill('6');
  await expect(page.getByRole('region', { name: 'Cost estimate' }).getByText(/^\$\d+\.\d\d$/).first()).toBeVisible();
  await check(page, 'create', h1('Create a video'), findings);
  await page.getByRole('button', { name: 'Create video' }).click();
  await page.waitForURL(/\/jobs\/[^/]+$/);
  await expect(page.getByRole('list', { name: 'Steps' })).toBeVisible({ timeout: 60_000 });
  await check(page, 'job-running', (p) => p.getByRole('list', { name: 'Steps' }), findings);
  await waitForFinishedJob(page, 5 * 60_000);
  await check(page, 'job-completed', (p) => p.getByLabel('The rendered video'), findings);
  await page.getByRole('button', { name: 'Copy as API call' }).click();
  await check(page, 'job-api-call', (p) => p.getByRole('dialog'), findings);
  await page.keyboard.press('Escape');

  const pages: [string, string, (p: Page) => Locator][] = [
    ['dashboard', '/', h1(/^Hello/)],
    ['library', '/library', h1('Library')],
    ['assets', '/assets', h1('Assets')],
    ['templates', '/templates', (p) => p.getByRole('heading', { level: 1 })],
    ['schedules', '/schedules', (p) => p.getByRole('heading', { level: 1 })],
    ['schedule-new', '/schedules/new', (p) => p.getByRole('heading', { level: 1 })],
    ['billing', '/billing', h1('Usage and billing')],
    ['settings-members', '/settings/members', (p) => p.getByRole('list', { name: 'Members' })],
    ['settings-api-keys', '/settings/api-keys', (p) => p.getByRole('heading', { name: 'API keys' })],
    ['settings-webhooks', '/settings/webhooks', (p) => p.getByRole('heading', { name: 'Webhooks' })],
    ['settings-integrations', '/settings/integrations', (p) => p.getByRole('heading', { name: 'Connected accounts' })],
    ['publications', '/publications', h1('Publications')],
    ['shares', '/shares', h1('Share links')],
    ['analytics', '/analytics', (p) => p.getByRole('figure', { name: /^Views per day/ })],
    ['not-found', '/no-such-page', h1('Page not found')],
  ];
  for (const [name, path, ready] of pages) {
    await load(page, path);
    await check(page, name, ready, findings);
  }

  // Pages of what the user made, made through the API and opened in the app: a workflow, a schedule of it, a webhook.
  const headers = { Authorization: `Bearer ${await apiToken(page.request, user)}` };
  const made = async (path: string, data: object) => {
    const res = await page.request.post(`${APP_URL}${path}`, { headers, data });
    expect(res.status(), await res.text()).toBe(201);
    const body = (await res.json()) as { id?: string; webhook?: { id: string } };
    return (body.id ?? body.webhook?.id)!;
  };
  const workflow = await made('/v1/workflows', {
    name: 'Sky facts',
    variables: { topic: 'the sky' },
    graph: {
      nodes: [
        { id: 'script', type: 'Script.Generate', params: { prompt: 'Three facts about {{topic}}' } },
        { id: 'stock', type: 'Input.Stock', params: { query: 'sky' } },
        { id: 'voice', type: 'Voice.TTS' },
        { id: 'timeline', type: 'Edit.Timeline' },
      ],
      edges: [{ from: 'script', to: 'stock' }, { from: 'script', to: 'voice' }, { from: 'stock', to: 'timeline' }, { from: 'voice', to: 'timeline' }],
    },
  });
  const schedule = await made('/v1/schedules', { workflow_id: workflow, name: 'Mondays', cron: '0 9 * * 1', timezone: 'Europe/Berlin' });
  const webhook = await made('/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['job.completed'] });
  const madePages: [string, string, (p: Page) => Locator][] = [
    ['workflow', `/templates/workflows/${workflow}`, (p) => p.getByRole('heading', { level: 1, name: 'Sky facts' })],
    ['schedule', `/schedules/${schedule}`, (p) => p.getByRole('heading', { level: 1 })],
    ['webhook', `/settings/webhooks/${webhook}`, (p) => p.getByText('http://127.0.0.1:9/hook', { exact: true }).first()],
  ];
  for (const [name, path, ready] of madePages) {
    await load(page, path);
    await check(page, name, ready, findings);
  }

  // A template's page, from the gallery.
  await load(page, '/templates');
  await page.getByRole('main').getByRole('link', { name: /Shorts Clean Bold/ }).first().click();
  await check(page, 'template', (p) => p.getByRole('heading', { level: 1, name: /Shorts Clean Bold/ }), findings);

  // The narrow layout's menu.
  await page.setViewportSize(SIZES.mobile);
  await load(page, '/');
  await page.getByRole('button', { name: 'Open menu' }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await page.screenshot({ path: `${OUT}/menu-mobile.png` });
  const menu = await new AxeBuilder({ page }).analyze();
  for (const v of menu.violations)
    if (v.impact === 'serious' || v.impact === 'critical')
      findings.push({ page: 'menu', size: 'mobile', id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) });

  writeFileSync(resolve(OUT, '../axe-findings.json'), JSON.stringify(findings, null, 2));
  test.info().attach('axe-findings.json', { body: JSON.stringify(findings, null, 2), contentType: 'application/json' });
  expect(findings, JSON.stringify(findings, null, 2)).toEqual([]);
});
