// What the specs share: fresh users through the pages, mails from MailDev, the API for the checks a person cannot see.
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { APP_URL, MAILDEV_URL } from './stack';

export type User = { name: string; email: string; password: string };

let seq = 0;
/** A user nobody has registered yet (MailDev takes any address). */
export function newUser(tag: string): User {
  const id = `${Date.now().toString(36)}${process.pid.toString(36)}${(seq++).toString(36)}`;
  const first = tag.charAt(0).toUpperCase() + tag.slice(1);
  return { name: `${first} Tester`, email: `e2e-${tag}-${id}@example.com`, password: 'correct horse battery staple' };
}

/** Registers through /register (the app signs the new user in and shows the dashboard). */
export async function register(page: Page, user: User, path = '/register'): Promise<void> {
  await page.goto(path);
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
  await page.getByLabel('Name').fill(user.name);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

// MailDev 3's REST API (tools/maildev): GET /api/email lists every mail it caught.
type Mail = { subject: string; to: { address: string }[]; text?: string; html?: string; time: string };

/** The newest mail to `to` whose body has a link to `route` (/verify-email, /accept-invitation …): that link. */
export async function mailedLink(request: APIRequestContext, to: string, route: string): Promise<string> {
  const pattern = new RegExp(`${APP_URL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${route}\\?token=[A-Za-z0-9_\\-%.~]+`);
  let link: string | undefined;
  await expect
    .poll(
      async () => {
        const res = await request.get(`${MAILDEV_URL}/api/email`);
        if (!res.ok()) return undefined;
        const mails = ((await res.json()) as Mail[])
          .filter((m) => m.to.some((t) => t.address.toLowerCase() === to.toLowerCase()))
          .sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
        for (const m of mails) {
          const found = `${m.text ?? ''}\n${(m.html ?? '').replace(/&amp;/g, '&')}`.match(pattern);
          if (found) return (link = found[0]);
        }
        return undefined;
      },
      { message: `a mail to ${to} with a ${route} link`, timeout: 60_000 },
    )
    .toBeTruthy();
  return link!;
}

/**
 * Lets the page finish what it is doing before the test loads another document in it, so each step starts from a page
 * at rest (a full load drops the requests in flight; a refresh dropped that way is repeated within the API's reuse
 * grace, docs/security.md). Bounded: a page with an open event stream never goes idle.
 */
export async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle', { timeout: 15_000 }).catch(() => {});
}

/** page.goto once the current document has settled (see settle). */
export async function load(page: Page, url: string): Promise<void> {
  await settle(page);
  await page.goto(url);
}

/** Reloads once the current document has settled (see settle). */
export async function reload(page: Page): Promise<void> {
  await settle(page);
  await page.reload();
}

/** Opens the verification link mailed to the user, in the page (signed in or not). */
export async function verifyEmail(page: Page, user: User): Promise<void> {
  await load(page, await mailedLink(page.request, user.email, '/verify-email'));
  await expect(page.getByRole('status').filter({ hasText: `${user.email} is verified` })).toBeVisible();
}

/** Registers and verifies a user; leaves the page on the dashboard, signed in. */
export async function signUpVerified(page: Page, user: User): Promise<void> {
  await register(page, user);
  await expect(page.getByRole('heading', { name: /^Hello/ })).toBeVisible();
  await verifyEmail(page, user);
  await page.getByRole('link', { name: 'Go to the dashboard' }).click();
  await expect(page.getByRole('heading', { name: /^Hello/ })).toBeVisible();
}

/** Follows a link of the sidebar (desktop) or of the menu sheet (narrow screens). */
export async function navigate(page: Page, label: string): Promise<void> {
  const main = page.getByRole('navigation', { name: 'Main' }).filter({ visible: true });
  const menu = page.getByRole('button', { name: 'Open menu' });
  await expect(main.or(menu).first()).toBeVisible();
  if (!(await main.count())) await menu.click();
  await page.getByRole('navigation', { name: 'Main' }).filter({ visible: true }).getByRole('link', { name: label, exact: true }).click();
}

/** An access token for the user, through the API as a client library signs in (for checks the page does not show). */
export async function apiToken(request: APIRequestContext, user: User): Promise<string> {
  const res = await request.post(`${APP_URL}/v1/auth/login`, { data: { email: user.email, password: user.password } });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A short 9:16 clip with sound, made with ffmpeg (run.sh installs it), for the upload specs. */
export function makeClip(path: string, seconds = 4): string {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=360x640:rate=25:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', path]);
  return path;
}

/**
 * Waits on a job page until the job has finished, live (the page's event stream moves its status to "completed"
 * without a reload), and then for the player: the page reads the finished job again by itself for its result.
 */
export async function waitForFinishedJob(page: Page, timeout: number): Promise<Locator> {
  const header = page.getByRole('main').getByRole('paragraph').filter({ hasText: /job_[0-9a-f]+/ }).first();
  await expect(header.getByText(/^(completed|failed|cancelled)$/)).toBeVisible({ timeout });
  await expect(header.getByText('completed', { exact: true })).toBeVisible();
  // Without a reload: the page reads the finished job again by itself.
  const player = page.getByLabel('The rendered video');
  await expect(player).toBeVisible({ timeout: 15_000 });
  return player;
}
