// Spec 7: publishing (issue 28). ./run.sh starts the platforms' simulators as sandboxes (FENTA_SANDBOX_PORT, e2e/stack.ts)
// when no platform credentials are set, and their consent pages approve by themselves: so the browser connects a
// YouTube, a TikTok and an Instagram account through the real OAuth redirects, publishes a finished video to all three
// from the job page (with "Write with AI"), watches the publication succeed with three links, and finds it on the
// Publications and Analytics pages. Screenshots of each page go to e2e-artifacts/publishing/.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiToken, load, navigate, newUser, signUpVerified, waitForFinishedJob } from './helpers';
import { APP_URL } from './stack';

const OUT = resolve(import.meta.dirname, '../e2e-artifacts/publishing');
const PLATFORMS = ['YouTube', 'TikTok', 'Instagram'] as const;

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true, animations: 'disabled' });
}

test('connect three accounts, publish a video to them, see it in Publications and Analytics', async ({ page }) => {
  test.setTimeout(12 * 60_000);
  mkdirSync(OUT, { recursive: true });
  const user = newUser('publish');
  await signUpVerified(page, user);

  // Connected accounts: each Connect goes to the platform's (sandbox) consent page and back through the API's callback.
  await navigate(page, 'Settings');
  await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Connected accounts' }).click();
  await expect(page.getByRole('heading', { name: 'Connected accounts' })).toBeVisible();
  await shot(page, 'integrations-empty');
  for (const name of PLATFORMS) {
    await page.getByRole('button', { name: `Connect a ${name} account` }).click();
    await page.waitForURL(/\/settings\/integrations/);
    await expect(page.getByRole('status').filter({ hasText: `${name} connected` })).toBeVisible();
    const accounts = page.getByRole('list', { name: `${name} accounts` });
    await expect(accounts.getByRole('listitem')).toHaveCount(1);
    await expect(accounts.getByText('active', { exact: true })).toBeVisible();
    // The callback's query is dropped from the address once shown.
    await expect(page).toHaveURL(/\/settings\/integrations$/);
  }
  await shot(page, 'integrations');

  // The disconnect dialog asks first (and is cancelled here).
  await page.getByRole('list', { name: 'Instagram accounts' }).getByRole('button', { name: /^Disconnect/ }).click();
  await expect(page.getByRole('dialog', { name: /^Disconnect/ })).toBeVisible();
  await shot(page, 'integrations-disconnect');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // A short video.
  await navigate(page, 'Create');
  await page.getByRole('radio', { name: /Shorts Clean Bold/ }).click();
  await page.getByLabel('Topic or prompt').fill('Why the sky is blue, in one breath');
  await page.getByLabel('Length (seconds)').fill('6');
  await page.getByRole('button', { name: 'Create video' }).click();
  await page.waitForURL(/\/jobs\/[^/]+$/);
  const jobId = page.url().split('/').pop()!;
  await waitForFinishedJob(page, 6 * 60_000);

  // Publish: the three accounts, the AI's text, each account's own options.
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Publish this video' });
  await expect(dialog).toBeVisible();
  for (const name of PLATFORMS) await dialog.getByRole('checkbox', { name: new RegExp(`^${name} · `) }).check();

  // Each account offers exactly the privacy levels its options allow.
  const token = await apiToken(page.request, user);
  const integrations = (await (await page.request.get(`${APP_URL}/v1/integrations`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
    data: { id: string; platform: string }[];
  };
  expect(integrations.data).toHaveLength(3);
  const tiktok = integrations.data.find((i) => i.platform === 'tiktok')!;
  const options = (await (await page.request.get(`${APP_URL}/v1/integrations/${tiktok.id}/options`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
    privacy_options: string[];
  };
  const tiktokBox = dialog.getByRole('group', { name: /^TikTok · / });
  await expect(tiktokBox.getByLabel('Privacy').locator('option')).toHaveCount(options.privacy_options.length);
  await expect(tiktokBox.getByLabel('Post as')).toBeVisible();
  await expect(dialog.getByRole('group', { name: /^YouTube · / }).getByLabel('Made for kids')).toBeVisible();
  await expect(dialog.getByRole('group', { name: /^YouTube · / }).getByLabel('Publish at (optional)')).toBeVisible();
  await expect(dialog.getByRole('group', { name: /^Instagram · / }).getByLabel('Post as')).toHaveCount(0);
  // An unaudited TikTok app may post only privately: take the most private level, which every account allows.
  await tiktokBox.getByLabel('Privacy').selectOption(options.privacy_options.includes('SELF_ONLY') ? 'SELF_ONLY' : options.privacy_options[0]);

  await expect(dialog.getByLabel('Disclose as AI-generated')).toBeChecked();
  await dialog.getByRole('button', { name: 'Write with AI' }).click();
  await expect(dialog.getByText(/AI writes (left|this month)/)).toBeVisible({ timeout: 60_000 });
  await expect(dialog.getByLabel('Title', { exact: true })).not.toHaveValue('');
  await expect(dialog.getByRole('group', { name: /^TikTok · / }).getByLabel('TikTok title')).not.toHaveValue('');
  // Tall enough for the whole dialog in the picture.
  await page.setViewportSize({ width: 1280, height: 1900 });
  await shot(page, 'publish-dialog');
  await page.setViewportSize({ width: 1280, height: 800 });

  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/v1/jobs/${jobId}/publish`) && r.request().method() === 'POST'),
    dialog.getByRole('button', { name: 'Publish to 3' }).click(),
  ]);
  expect(response.status(), await response.text()).toBe(202);
  const publicationId = ((await response.json()) as { id: string }).id;

  // The publication, live until it has succeeded, with a link to each post.
  await page.waitForURL(new RegExp(`/publications/${publicationId}$`));
  const pub = page.getByRole('article', { name: `Publication ${publicationId}` });
  await expect(pub.locator('header').getByText('succeeded', { exact: true })).toBeVisible({ timeout: 5 * 60_000 });
  await expect(pub.getByRole('link', { name: /^Open the .* post/ })).toHaveCount(3);
  for (const name of PLATFORMS) await expect(pub.getByRole('link', { name: new RegExp(`^Open the ${name} post`) })).toHaveAttribute('href', /^https?:\/\//);
  await shot(page, 'publication');

  // The job page lists it.
  await load(page, `/jobs/${jobId}`);
  await expect(page.getByRole('article', { name: `Publication ${publicationId}` }).getByRole('link', { name: /^Open the .* post/ })).toHaveCount(3);

  // Publications.
  await navigate(page, 'Publications');
  await expect(page.getByRole('heading', { level: 1, name: 'Publications' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Publications' }).getByRole('link', { name: publicationId })).toBeVisible();
  await shot(page, 'publications');

  // Analytics: the structure and the published count (views come with the statistics timer, every 10 minutes).
  await navigate(page, 'Analytics');
  await expect(page.getByRole('heading', { level: 1, name: 'Analytics' })).toBeVisible();
  const overview = page.getByRole('region', { name: 'Overview' });
  for (const label of ['Published in range', 'Views', 'Likes', 'Comments', 'Shares']) await expect(overview.getByText(label, { exact: true })).toBeVisible();
  await expect(overview.getByText('Published in range').locator('..').getByText('3', { exact: true })).toBeVisible();
  await expect(page.getByRole('figure', { name: /^Views per day/ })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Platforms' }).getByRole('listitem')).toHaveCount(3);
  await expect(page.getByRole('table', { name: 'Top videos' }).getByRole('row')).toHaveCount(4);
  await page.getByRole('radio', { name: 'Last 7 days' }).click();
  await expect(page.getByRole('radio', { name: 'Last 7 days' })).toBeChecked();
  await shot(page, 'analytics');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, 'analytics-mobile');
  await load(page, '/settings/integrations');
  await expect(page.getByRole('list', { name: 'YouTube accounts' })).toBeVisible();
  await shot(page, 'integrations-mobile');
});
