// Spec 1: a new user registers, verifies through the mailed link, uploads a clip, creates a video from a template with
// it, watches the job's steps live to completion, plays the video and downloads the MP4.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { apiToken, makeClip, navigate, newUser, signUpVerified, waitForFinishedJob } from './helpers';

test('register, verify, upload, create from a template, watch, play and download', async ({ page }, testInfo) => {
  test.setTimeout(8 * 60_000);
  const user = newUser('creator');
  await signUpVerified(page, user);

  // Upload on the Assets page: the browser PUTs the file straight to Blob Storage (Azurite) through the SAS link.
  const clip = makeClip(testInfo.outputPath('my-clip.mp4'));
  await navigate(page, 'Assets');
  await expect(page.getByRole('heading', { name: 'Assets', level: 1 })).toBeVisible();
  await page.getByLabel('Choose files to upload').setInputFiles(clip);
  const assets = page.getByRole('list', { name: 'Assets' });
  await expect(assets.getByText('my-clip.mp4')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('list', { name: 'Uploads' }).getByRole('alert')).toHaveCount(0);

  // Create from a template with that upload.
  await navigate(page, 'Create');
  await page.getByRole('radio', { name: /Shorts Clean Bold/ }).click();
  await page.getByLabel('Topic or prompt').fill('Three surprising facts about octopuses');
  await page.getByLabel('Length (seconds)').fill('10');
  await page.getByRole('radio', { name: /My uploads/ }).click();
  await page.getByRole('checkbox', { name: /my-clip\.mp4/ }).check();
  await expect(page.getByRole('region', { name: 'Cost estimate' }).getByText(/^\$\d+\.\d\d$/).first()).toBeVisible();
  await page.getByRole('button', { name: 'Create video' }).click();
  await page.waitForURL(/\/jobs\/[^/]+$/);
  const jobId = page.url().split('/jobs/')[1];

  // Live steps: the list fills in and steps finish while the page stays open (SSE, no reload).
  const steps = page.getByRole('list', { name: 'Steps' });
  await expect(steps.getByRole('listitem').first()).toBeVisible({ timeout: 60_000 });
  await expect(steps.getByText('Output.Render')).toBeVisible();
  await expect(steps.getByText('succeeded').first()).toBeVisible({ timeout: 5 * 60_000 });
  const player = await waitForFinishedJob(page, 5 * 60_000);

  // The job as the API tells it.
  const token = await apiToken(page.request, user);
  const res = await page.request.get(`/v1/jobs/${jobId}`, { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status()).toBe(200);
  const job = (await res.json()) as { status: string; result: { duration: number | string } };
  expect(job.status).toBe('completed');
  const duration = Number(job.result.duration);
  expect(duration).toBeGreaterThan(5);

  // Play it: it loads data (readyState >= 2: HAVE_CURRENT_DATA) and lasts what the job says, within 1 s.
  await player.evaluate(async (v: HTMLVideoElement) => {
    v.muted = true;
    await v.play();
  });
  await expect.poll(() => player.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  await expect.poll(() => player.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 30_000 }).toBeGreaterThan(0);
  const played = await player.evaluate((v: HTMLVideoElement) => v.duration);
  expect(Math.abs(played - duration)).toBeLessThanOrEqual(1);

  // Download the MP4: the file starts with an ISO BMFF 'ftyp' box.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'MP4' }).click()]);
  const file = testInfo.outputPath('download.mp4');
  await download.saveAs(file);
  const head = readFileSync(file).subarray(0, 12);
  expect(head.subarray(4, 8).toString('latin1')).toBe('ftyp');
  expect(readFileSync(file).length).toBeGreaterThan(10_000);
});
