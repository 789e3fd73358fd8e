// Spec 2: an admin invites a member; the member (another browser context) registers, verifies and accepts through the
// mailed invitation; a role change shows on both sides; as a viewer the member sees no write actions.
import { expect, test, type Page } from '@playwright/test';
import { load, mailedLink, navigate, newUser, register, reload, signUpVerified, verifyEmail } from './helpers';

async function openMembers(page: Page) {
  await navigate(page, 'Settings');
  await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Members' }).click();
  await expect(page.getByRole('list', { name: 'Members' })).toBeVisible();
}

test('invite, accept through the mail, change the role, viewer sees no write actions', async ({ page: admin, browser }) => {
  const owner = newUser('owner');
  const member = newUser('member');
  await signUpVerified(admin, owner);

  // The owner invites the member as an editor.
  await openMembers(admin);
  const invite = admin.getByRole('form', { name: 'Invite a member' });
  await invite.getByLabel('Email').fill(member.email);
  await invite.getByLabel('Role').selectOption('editor');
  await invite.getByRole('button', { name: 'Invite' }).click();
  await expect(admin.getByRole('list', { name: 'Pending invitations' }).getByText(member.email)).toBeVisible();

  // The member, in a browser of their own: the mailed link, an account with that address, the address verified, accept.
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const invitation = await mailedLink(page.request, member.email, '/accept-invitation');
    await page.goto(invitation);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await register(page, member, page.url());
    await expect(page.getByRole('button', { name: 'Accept invitation' })).toBeVisible();
    await verifyEmail(page, member);
    await load(page, invitation);
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'You joined' })).toContainText('Your role: editor');
    await page.getByRole('button', { name: 'Open the dashboard' }).click();

    // As an editor: uploads are offered; members are managed by admins.
    await navigate(page, 'Assets');
    await expect(page.getByRole('button', { name: 'Choose files', exact: true })).toBeVisible();
    await openMembers(page);
    await expect(page.getByText('You are an editor')).toBeVisible();
    await expect(page.getByRole('form', { name: 'Invite a member' })).toHaveCount(0);

    // The owner sees the member and makes them a viewer.
    await reload(admin);
    await expect(admin.getByRole('list', { name: 'Pending invitations' }).getByText(member.email)).toHaveCount(0);
    const role = admin.getByLabel(`Role of ${member.name}`);
    await expect(role).toHaveValue('editor');
    await role.selectOption('viewer');
    await expect(admin.getByRole('status').filter({ hasText: `${member.name} is now viewer` })).toBeVisible();
    await reload(admin);
    await expect(admin.getByLabel(`Role of ${member.name}`)).toHaveValue('viewer');

    // The member's side: a viewer, without write actions.
    await reload(page);
    await expect(page.getByText('You are a viewer')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Invite' })).toHaveCount(0);
    await navigate(page, 'Create');
    await expect(page.getByRole('heading', { name: 'Create a video', level: 1 })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Create video' })).toHaveCount(0);
    await navigate(page, 'Assets');
    await expect(page.getByRole('heading', { name: 'Assets', level: 1 })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Choose files', exact: true })).toHaveCount(0);
    await expect(page.getByRole('button', { name: /^Delete / })).toHaveCount(0);
    await navigate(page, 'Settings');
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Webhooks' }).click();
    await expect(page.getByText('Webhooks are managed by admins')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Add webhook' })).toHaveCount(0);
  } finally {
    await context.close();
  }
});
