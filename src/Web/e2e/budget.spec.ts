// Spec 5: a run refused for its budget shows the problem's detail on the page (402 BUDGET_EXCEEDED).
import { expect, test } from '@playwright/test';
import { navigate, newUser, signUpVerified } from './helpers';

test('a job over its budget is refused with the API’s detail', async ({ page }) => {
  const user = newUser('budget');
  await signUpVerified(page, user);
  await navigate(page, 'Create');
  await page.getByRole('radio', { name: /Shorts Clean Bold/ }).click();
  await page.getByLabel('Topic or prompt').fill('A one-minute history of the paperclip');
  await page.getByLabel('Length (seconds)').fill('60');
  await page.getByLabel('Budget (USD, optional)').fill('0.0001');
  // The estimate says so before submitting…
  await expect(page.getByText(/over your budget/)).toBeVisible();

  // … and the API refuses it: its problem's detail is on the page.
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/v1/jobs') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Create video' }).click(),
  ]);
  expect(response.status()).toBe(402);
  const problem = (await response.json()) as { code?: string; detail?: string };
  expect(problem.code).toBe('BUDGET_EXCEEDED');
  expect(problem.detail).toBeTruthy();
  await expect(page.getByRole('alert').filter({ hasText: problem.detail! })).toBeVisible();
  await expect(page).toHaveURL(/\/create$/);
});
