// Spec 4: a webhook pointing at a receiver this test runs on 127.0.0.1 (run.sh allows private addresses); its ping
// arrives signed, and the delivery shows in the webhook's log.
import { expect, test } from '@playwright/test';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { navigate, newUser, signUpVerified } from './helpers';

type Received = { method: string; url: string; headers: IncomingHttpHeaders; body: string };

test('add a webhook, ping it, see the delivery', async ({ page }) => {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/fenta`;
  try {
    const user = newUser('hooks');
    await signUpVerified(page, user);
    await navigate(page, 'Settings');
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const form = page.getByRole('dialog', { name: 'Add a webhook' });
    await form.getByLabel('Endpoint URL').fill(url);
    await form.getByLabel('Description').fill('E2E receiver');
    await form.getByRole('button', { name: 'Add webhook' }).click();

    const secretDialog = page.getByRole('dialog', { name: "Your webhook's signing secret" });
    const secret = await secretDialog.getByLabel('the signing secret').inputValue();
    expect(secret.length).toBeGreaterThan(10);
    await secretDialog.getByRole('button', { name: 'I have stored it' }).click();

    await page.getByRole('list', { name: 'Webhooks' }).getByRole('link', { name: new RegExp(url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')) }).click();
    await page.getByRole('button', { name: 'Ping' }).click();

    // The receiver got a signed POST.
    await expect.poll(() => received.length, { timeout: 60_000, message: 'a POST at the receiver' }).toBeGreaterThan(0);
    const ping = received[0];
    expect(ping.method).toBe('POST');
    expect(ping.url).toBe('/hooks/fenta');
    const signature = Object.entries(ping.headers).find(([k]) => /signature/i.test(k));
    expect(signature, `a signature header among ${Object.keys(ping.headers).join(', ')}`).toBeTruthy();
    expect(JSON.parse(ping.body)).toBeTruthy();

    // … and the delivery is in the log (refreshing the list as a person would).
    const deliveries = page.getByRole('list', { name: 'Deliveries' });
    await expect
      .poll(
        async () => {
          if (await deliveries.isVisible()) return deliveries.getByRole('listitem').count();
          await page.getByRole('button', { name: 'Refresh deliveries' }).click();
          return 0;
        },
        { timeout: 60_000 },
      )
      .toBeGreaterThan(0);
    const item = deliveries.getByRole('listitem').first();
    await expect(item.getByText('HTTP 200')).toBeVisible();
    await item.getByText(/ping/).first().click();
    await expect(item.getByLabel(/^Payload of/)).toBeVisible();
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
