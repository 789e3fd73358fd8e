// Share links (issue 29): from a finished job's page the Share dialog makes a public link (with download allowed), the
// public page opens in a new page without a session and plays the video (its tags unfurl), the dialog lists the link
// with its view count, Revoke turns it off (the Share links page lists it so), and the page then answers 410. Screenshots go to e2e-artifacts/sharing/.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { navigate, newUser, signUpVerified, waitForFinishedJob } from './helpers';

const OUT = resolve(import.meta.dirname, '../e2e-artifacts/sharing');

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true, animations: 'disabled' });
}

test('share a finished video, watch it on the public page, revoke it', async ({ page, browser }) => {
  test.setTimeout(10 * 60_000);
  mkdirSync(OUT, { recursive: true });
  await signUpVerified(page, newUser('share'));

  await navigate(page, 'Create');
  await page.getByRole('radio', { name: /Shorts Clean Bold/ }).click();
  await page.getByLabel('Topic or prompt').fill('Night buses start running in the city');
  await page.getByLabel('Length (seconds)').fill('6');
  await page.getByRole('button', { name: 'Create video' }).click();
  await page.waitForURL(/\/jobs\/[^/]+$/);
  await waitForFinishedJob(page, 6 * 60_000);

  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Share' });
  await expect(dialog.getByText('No links yet.')).toBeVisible();
  await dialog.getByLabel('Title').fill('Night buses <3');
  await dialog.getByLabel('Expires after').selectOption('1 day');
  await dialog.getByLabel('Allow download').check();
  await shot(page, 'dialog');
  await dialog.getByRole('button', { name: 'Create link' }).click();
  const field = dialog.getByLabel('Share link', { exact: true });
  await expect(field).toHaveValue(/\/s\/[A-Za-z0-9_-]{43}$/);
  const url = await field.inputValue();
  await expect(dialog.getByRole('listitem', { name: 'Share link Night buses <3' })).toBeVisible();
  await shot(page, 'dialog-created');

  // The public page, in a browser context of its own: no session, no cookie.
  const viewer = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const publicPage = await viewer.newPage();
  const response = await publicPage.goto(url);
  expect(response?.status()).toBe(200);
  await expect(publicPage.getByRole('heading', { name: 'Night buses <3' })).toBeVisible();
  const video = publicPage.locator('video');
  await expect(video).toBeVisible();
  // The browser follows /video to the storage link and can play it (metadata loaded).
  await expect.poll(async () => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
  expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeGreaterThan(4);
  await expect(publicPage.locator('meta[property="og:video"]')).toHaveAttribute('content', `${url}/video`);
  await expect(publicPage.getByRole('link', { name: 'Download' })).toBeVisible();
  await expect(publicPage.getByText('1 view')).toBeVisible();
  expect(await publicPage.content()).not.toContain('sig=');
  await shot(publicPage, 'public-page');

  // Back in the dialog: the view is counted; Revoke asks, then turns the link off.
  await dialog.getByRole('button', { name: 'Close' }).click();
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const row = dialog.getByRole('listitem', { name: 'Share link Night buses <3' });
  await expect(row.getByText(/^1 view ·/)).toBeVisible();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await row.getByRole('button', { name: 'Revoke now' }).click();
  await expect(row.getByText('revoked', { exact: true })).toBeVisible();
  await shot(page, 'dialog-revoked');

  // The org's links, on their own page.
  await page.keyboard.press('Escape');
  await navigate(page, 'Share links');
  await expect(page.getByRole('heading', { level: 1, name: 'Share links' })).toBeVisible();
  const listed = page.getByRole('list', { name: 'Share links' }).getByRole('listitem', { name: 'Share link Night buses <3' });
  await expect(listed.getByText('revoked', { exact: true })).toBeVisible();
  await expect(listed.getByRole('link', { name: 'Open the job' })).toBeVisible();
  await shot(page, 'share-links-page');

  const gone = await publicPage.reload();
  expect(gone?.status()).toBe(410);
  await expect(publicPage.getByRole('heading', { name: 'Gone' })).toBeVisible();
  await expect(publicPage.locator('video')).toHaveCount(0);
  await shot(publicPage, 'public-page-gone');
  await viewer.close();
});
