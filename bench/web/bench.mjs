// bench/web: the web app's first load, against a baseline measured in the same run on the same server.
//   node bench/web/bench.mjs APP_URL [ROUNDS]      (bench/web/run starts the stack and calls this)
// 1. Bytes: the JavaScript the dashboard route loads, gzipped — from the built dist (the entry and its static imports,
//    as index.html names them, plus the lazy chunks the browser fetched for "/") and as the browser fetched it.
// 2. Time to an interactive dashboard: a full load of "/" by a signed-in user (the refresh cookie) in a browser with an empty cache, from navigation
//    start to the heading "Hello, <name>" with the recent-jobs list and the quota drawn — against the baseline: the
//    bare index.html shell from the same server with JavaScript off (navigation start to its load event).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const web = join(root, 'src/Web');
const { chromium } = createRequire(join(web, 'package.json'))('@playwright/test');
const base = (process.argv[2] ?? 'http://127.0.0.1:18080').replace(/\/$/, '');
const rounds = Number(process.argv[3] ?? 5);
const BUDGET_KB = 250;

const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const kb = (n) => (n / 1024).toFixed(1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

// What index.html loads before any script runs: the entry module and its modulepreloads.
const dist = join(web, 'dist');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const entry = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)].map((m) => m[1]);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // A user with data: one job on the dashboard.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const email = `bench-${Date.now().toString(36)}@example.com`;
  const password = 'correct horse battery staple';
  await page.goto(`${base}/register`);
  await page.getByLabel('Name').fill('Bench Mark');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: /^Hello/ }).waitFor({ timeout: 60_000 });
  const login = await page.request.post(`${base}/v1/auth/login`, { data: { email, password } });
  const token = (await login.json()).access_token;
  const job = await page.request.post(`${base}/v1/jobs`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { config: { sources: [{ type: 'stock', query: 'ocean', count: 2 }], script: { prompt: 'The ocean in two sentences', duration_seconds: 5 } } },
  });
  if (job.status() >= 300) throw new Error(`could not create the bench's job: ${job.status()} ${await job.text()}`);

  const dashboardReady = () => {
    const h1 = document.querySelector('h1');
    return Boolean(
      h1 && /^Hello, /.test(h1.textContent ?? '') && document.querySelector('ul[aria-label="Recent jobs"] li') && /plan · resets/.test(document.body.textContent ?? ''),
    ) && performance.now();
  };

  // Each round is a first load: a new browser context (empty HTTP cache) holding only the session's refresh cookie,
  // which each load rotates, so the next round starts from the state the last one left.
  let state = await context.storageState();
  await context.close();
  const loads = [];
  const scripts = new Map();
  for (let i = 0; i <= rounds; i++) {
    const round = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true, storageState: state });
    const p = await round.newPage();
    const fetched = [];
    p.on('requestfinished', async (req) => {
      if (req.resourceType() !== 'script') return;
      const sizes = await req.sizes().catch(() => null);
      const response = await req.response();
      fetched.push({ url: req.url(), wire: sizes ? sizes.responseBodySize : 0, encoding: (await response?.allHeaders())?.['content-encoding'] ?? '' });
    });
    await p.goto(`${base}/`, { waitUntil: 'commit' });
    const ms = await (await p.waitForFunction(dashboardReady, null, { polling: 'raf', timeout: 60_000 })).jsonValue();
    await p.waitForLoadState('networkidle').catch(() => {});
    state = await round.storageState();
    await round.close();
    if (i === 1) for (const f of fetched) scripts.set(new URL(f.url).pathname, f);
    if (i > 0) loads.push(ms); // round 0 warms the server (its file cache, the JIT) and is left out
  }

  // Baseline: the same server's index.html shell, scripts off.
  const bare = await browser.newContext({ javaScriptEnabled: false });
  const shellPage = await bare.newPage();
  const shells = [];
  for (let i = 0; i <= rounds; i++) {
    await shellPage.goto(`${base}/`, { waitUntil: 'load' });
    const t = await shellPage.evaluate(() => {
      const [nav] = performance.getEntriesByType('navigation');
      return nav.loadEventEnd - nav.startTime;
    }).catch(() => null);
    if (t === null) {
      // Scripts are off, so evaluate cannot run: time it from here.
      const start = Date.now();
      await shellPage.goto(`${base}/?${i}`, { waitUntil: 'load' });
      if (i > 0) shells.push(Date.now() - start);
    } else if (i > 0) shells.push(t);
  }
  await bare.close();

  // Bytes.
  const files = new Set([...entry, ...scripts.keys()]);
  let raw = 0;
  let gzip = 0;
  let wire = 0;
  const rows = [];
  for (const path of files) {
    const file = join(dist, path.replace(/^\//, ''));
    if (!existsSync(file)) continue;
    const buf = readFileSync(file);
    const fetched = scripts.get(path);
    raw += buf.length;
    gzip += gz(buf);
    wire += fetched?.wire ?? 0;
    rows.push(`  ${path.padEnd(44)} ${kb(buf.length).padStart(7)} KB raw ${kb(gz(buf)).padStart(6)} KB gzip ${fetched ? `${kb(fetched.wire).padStart(6)} KB fetched${fetched.encoding ? ` (${fetched.encoding})` : ''}` : '(not fetched)'}`);
  }
  const dash = median(loads);
  const shell = median(shells);
  console.log(`first load of "/" (dashboard), JavaScript: ${files.size} files`);
  for (const r of rows) console.log(r);
  console.log(`  total: ${kb(raw)} KB raw, ${kb(gzip)} KB gzipped (gzip -9), ${kb(wire)} KB over the wire; budget ${BUDGET_KB} KB gzipped: ${gzip / 1024 <= BUDGET_KB ? 'within' : 'OVER'}`);
  console.log(`time to an interactive dashboard, first load with an empty cache (median of ${rounds}, after one warm-up): ${dash.toFixed(0)} ms  [${loads.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`baseline, the bare index.html shell (scripts off, to its load event): ${shell.toFixed(1)} ms  [${shells.map((x) => x.toFixed(1)).join(', ')}]`);
  console.log(`ratio: ${(dash / shell).toFixed(1)}x`);
} finally {
  await browser.close();
}
