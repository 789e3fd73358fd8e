// Where the browser tests find the stack. By default Playwright's webServer starts the real one with ./run.sh, in its
// own folder (.local/e2e) and on its own ports, beside a developer's stack on 8080 and its default ports (test.sh runs
// this after the .NET tests, whose stacks use free ports of their own). FENTA_E2E_URL (and FENTA_E2E_MAILDEV_URL)
// point the tests at a stack already running instead, e.g. `./run.sh` itself: then nothing is started.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;
const port = (name: string, fallback: number) => Number(env[name] ?? fallback);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The ports ./run.sh is told to use (every one it opens), overridable one by one. */
export const PORTS = {
  FENTA_HTTP_PORT: port('FENTA_E2E_HTTP_PORT', 18080),
  FENTA_PG_PORT: port('FENTA_E2E_PG_PORT', 55442),
  FENTA_AZURITE_BLOB_PORT: port('FENTA_E2E_AZURITE_BLOB_PORT', 10010),
  FENTA_AZURITE_QUEUE_PORT: port('FENTA_E2E_AZURITE_QUEUE_PORT', 10011),
  FENTA_AZURITE_TABLE_PORT: port('FENTA_E2E_AZURITE_TABLE_PORT', 10012),
  FENTA_MAILDEV_SMTP_PORT: port('FENTA_E2E_MAILDEV_SMTP_PORT', 1035),
  FENTA_MAILDEV_WEB_PORT: port('FENTA_E2E_MAILDEV_WEB_PORT', 1090),
  // The publishing platforms' sandboxes (YouTube, TikTok, Instagram) take this port and the two after it.
  FENTA_SANDBOX_PORT: port('FENTA_E2E_SANDBOX_PORT', 18091),
};

/** True when the tests use a stack somebody else started (FENTA_E2E_URL). */
export const external = Boolean(env.FENTA_E2E_URL);
/** The app and the API (one origin). */
export const APP_URL = (env.FENTA_E2E_URL ?? `http://127.0.0.1:${PORTS.FENTA_HTTP_PORT}`).replace(/\/$/, '');
/** MailDev's web port: its REST API lists the mails the API sent (GET /api/email). */
export const MAILDEV_URL = (env.FENTA_E2E_MAILDEV_URL ?? `http://127.0.0.1:${external ? 1080 : PORTS.FENTA_MAILDEV_WEB_PORT}`).replace(/\/$/, '');

/** The environment ./run.sh starts with: none of the caller's FENTA_* settings (a test run's own leak nowhere), ours. */
export function runShEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (!k.startsWith('FENTA_') || k === 'FENTA_CONFIGURATION')) out[k] = v;
  for (const [k, v] of Object.entries(PORTS)) out[k] = String(v);
  out.FENTA_LOCAL_DIR = env.FENTA_E2E_LOCAL_DIR ?? resolve(ROOT, '.local/e2e');
  // Every spec signs up its own users from 127.0.0.1, and the pages refresh and poll: the per-address limit for
  // anonymous calls (100 a minute) is a production guard these parallel sign-ups should not trip.
  out.FENTA_RATE_LIMIT_PER_MINUTE = env.FENTA_E2E_RATE_LIMIT ?? '1000';
  return out;
}
