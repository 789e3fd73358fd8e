// Spec 3: an API key made in Settings works against the API; rolled, the old secret gets 401 and the new one works.
import { expect, test } from '@playwright/test';
import { navigate, newUser, signUpVerified } from './helpers';

test('create an API key, call the API with it, roll it', async ({ page }) => {
  const user = newUser('keys');
  await signUpVerified(page, user);
  await navigate(page, 'Settings');
  await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'API keys' }).click();

  await page.getByRole('button', { name: 'New API key' }).click();
  const create = page.getByRole('dialog', { name: 'Create an API key' });
  await create.getByLabel('Name').fill('CI pipeline');
  await create.getByRole('button', { name: 'Create key' }).click();

  // The secret, shown once.
  const shown = page.getByRole('dialog', { name: 'Your new API key' });
  const first = await shown.getByLabel('the API key').inputValue();
  expect(first).toMatch(/^fw_/);
  await shown.getByRole('button', { name: 'I have stored it' }).click();
  await expect(shown).toBeHidden();
  const keys = page.getByRole('list', { name: 'API keys' });
  await expect(keys.getByText('CI pipeline')).toBeVisible();
  await expect(page.getByText(first)).toHaveCount(0);

  const jobs = (key: string) => page.request.get('/v1/jobs', { headers: { Authorization: `Bearer ${key}` } });
  expect((await jobs(first)).status()).toBe(200);

  await keys.getByRole('button', { name: 'Roll CI pipeline' }).click();
  await page.getByRole('dialog', { name: /Roll/ }).getByRole('button', { name: 'Roll key' }).click();
  const rolled = page.getByRole('dialog', { name: /New secret for/ });
  const second = await rolled.getByLabel('the API key').inputValue();
  expect(second).toMatch(/^fw_/);
  expect(second).not.toBe(first);
  await rolled.getByRole('button', { name: 'I have stored it' }).click();

  const old = await jobs(first);
  expect(old.status()).toBe(401);
  expect((await jobs(second)).status()).toBe(200);
});
