// The client against a running API: FENTAWEB_BASE_URL and FENTAWEB_API_KEY (a key with every scope) name it, and the
// API's workers run jobs (tests/Functions.Api.Tests/SdkTests.cs starts it all and runs this file with `node --test`).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { FentaWeb, FentaWebError, OPERATIONS } from '../index.js';

const client = new FentaWeb();
const graph = {
  nodes: [
    { id: 's', type: 'Script.Generate', params: { prompt: 'scenes=2 about {{topic}}' } },
    { id: 'st', type: 'Input.Stock', params: { query: 'sleep=50' } },
    { id: 't', type: 'Edit.Timeline' },
  ],
  edges: [{ from: 's', to: 'st' }, { from: 'st', to: 't' }],
};

test('workflows are created, changed with If-Match and listed page by page', async () => {
  const names = ['one', 'two', 'three'].map((n) => `sdk ${n} ${Date.now()}`);
  const created = [];
  for (const name of names) created.push(await client.workflows.create({ name, graph, variables: { topic: 'cats' } }));
  const first = created[0];
  assert.equal((await client.workflows.get(first.id)).name, names[0]);

  const updated = await client.workflows.update(first.id, { description: 'changed' }, { ifMatch: first.version });
  assert.equal(updated.version, first.version + 1);
  const stale = await client.workflows.update(first.id, { description: 'stale' }, { ifMatch: first.version }).catch((e) => e);
  assert.ok(stale instanceof FentaWebError);
  assert.equal(stale.status, 412);
  assert.deepEqual((await client.workflows.listVersions(first.id)).data.map((v) => v.version).sort(), [1, 2]);

  const seen = [];
  for await (const workflow of client.paginate(client.workflows.list, { limit: 2 })) seen.push(workflow.id);
  for (const workflow of created) assert.ok(seen.includes(workflow.id), `${workflow.id} listed`);
  assert.equal(new Set(seen).size, seen.length);
});

test('errors are FentaWebErrors with the problem code and the fields named', async () => {
  const invalid = await client.workflows.create({ name: '', graph }).catch((e) => e);
  assert.ok(invalid instanceof FentaWebError);
  assert.equal(invalid.status, 400);
  assert.equal(invalid.code, 'VALIDATION_FAILED');
  assert.ok(invalid.errors.some((e) => e.field === 'name'), JSON.stringify(invalid.errors));

  const missing = await client.jobs.get('job_does_not_exist').catch((e) => e);
  assert.equal(missing.status, 404);
  assert.equal(missing.code, 'NOT_FOUND');
  assert.throws(() => client.jobs.get(), /takes jobId first/);

  const stranger = new FentaWeb({ apiKey: 'fw_not_a_key' });
  assert.equal((await stranger.templates.list().catch((e) => e)).status, 401);
});

test('a run is followed by its events and waited for; a repeated idempotency key returns the same job', async () => {
  const workflow = await client.workflows.create({ name: `sdk run ${Date.now()}`, graph, variables: { topic: 'cats' } });
  const started = await client.workflows.run(workflow.id, { variables: { topic: 'dogs' } });
  assert.match(started.id, /^job_/);

  const events = [];
  for await (const event of client.jobs.events(started.id)) events.push(event);
  const jobEvents = events.filter((e) => e.event === 'job');
  assert.equal(jobEvents.at(-1).data.status, 'completed');
  assert.ok(events.some((e) => e.event === 'node' && e.data.node_id === 'st' && e.data.status === 'succeeded'));

  const job = await client.jobs.wait(started.id, { intervalMs: 100 });
  assert.equal(job.status, 'completed');
  assert.ok((await client.jobs.logs(started.id)).data.length > 0);

  const key = `sdk-${Date.now()}`;
  const once = await client.workflows.run(workflow.id, {}, { idempotencyKey: key });
  const twice = await client.workflows.run(workflow.id, {}, { idempotencyKey: key });
  assert.equal(twice.id, once.id);
  assert.equal((await client.jobs.wait(once.id, { intervalMs: 100 })).status, 'completed');
});

test("the README's direct render job is accepted and cancelled, idempotently", async () => {
  const body = {
    template_id: 'tmpl_shorts_v1',
    config: { sources: [{ type: 'stock', query: 'city night', count: 3 }], script: { prompt: 'Night buses start running in the city' } },
  };
  const estimate = await client.jobs.estimate(body);
  assert.ok(estimate.nodes.some((node) => node.node_id === 'render'), JSON.stringify(estimate));
  const job = await client.jobs.create(body);
  assert.match(job.id, /^job_/);
  // The tests' workers stand in for the media steps, so the job may end on its own before the cancel arrives.
  const cancelled = await client.jobs.cancel(job.id).catch((e) => e);
  assert.ok(cancelled.status === 'cancelled' || cancelled.code === 'JOB_FINISHED', String(cancelled));
  const ended = await client.jobs.wait(job.id, { intervalMs: 100 });
  const again = await client.jobs.cancel(job.id).catch((e) => e);
  if (ended.status === 'cancelled') assert.equal(again.status, 'cancelled');
  else assert.equal(again.code, 'JOB_FINISHED', `${ended.status}: ${again}`);
});

test('a file is uploaded through the signed storage link and probed', async () => {
  const asset = await client.assets.upload({ data: png(16, 9), filename: 'frame.png', contentType: 'image/png' });
  assert.equal(asset.status, 'ready');
  assert.equal(asset.size_bytes, png(16, 9).byteLength);
  const fetched = await client.assets.get(asset.id);
  assert.equal(fetched.id, asset.id);
  assert.equal(await client.assets.delete(asset.id), null);
});

test('publishing: the platforms say what they lack, an unconfigured one refuses to connect, and nothing is published yet', async () => {
  const platforms = await client.integrations.platforms();
  assert.deepEqual(platforms.map((p) => p.platform), ['youtube', 'tiktok', 'instagram']);
  for (const p of platforms) {
    assert.equal(p.configured, false);
    assert.match(p.missing_setting, /^FENTA_[A-Z]+_CLIENT_(ID|SECRET)$/);
  }
  const refused = await client.integrations.connect('youtube', { return_to: '/settings/integrations' }).catch((e) => e);
  assert.equal(refused.status, 409);
  assert.equal(refused.code, 'PLATFORM_NOT_CONFIGURED');
  assert.match(refused.detail, /FENTA_YOUTUBE_CLIENT_/);
  const replayed = await client.integrations.callback('youtube', { code: 'c', state: 'never-issued' }).catch((e) => e);
  assert.equal(replayed.status, 400);
  assert.deepEqual((await client.integrations.list()).data, []);
  assert.equal((await client.integrations.get('int_missing').catch((e) => e)).status, 404);

  assert.deepEqual((await client.publications.list()).data, []);
  assert.equal((await client.publications.get('pub_missing').catch((e) => e)).status, 404);
  assert.deepEqual((await client.shareLinks.list({ job_id: 'job_missing' })).data, []);
  const unshared = await client.shareLinks.create({ job_id: 'job_missing' }).catch((e) => e);
  assert.equal(unshared.status, 400);
  assert.equal(unshared.errors[0].field, 'job_id');
  const overview = await client.analytics.overview({ from: new Date(Date.now() - 7 * 86_400_000) });
  assert.equal(overview.videos, 0);
  assert.deepEqual(await client.analytics.videos({ platform: 'tiktok' }), []);
  assert.deepEqual(await client.analytics.platforms(), []);
});

test('a rate-limited or failing read is retried and a job creation keeps its idempotency key', async () => {
  const calls = [];
  const flaky = new FentaWeb({
    apiKey: 'fw_test', baseUrl: 'http://api.test', maxRetries: 2,
    fetch: async (url, init) => {
      calls.push({ url: String(url), key: init.headers['idempotency-key'] });
      if (calls.length === 1) return new Response('{"code":"RATE_LIMITED"}', { status: 429, headers: { 'retry-after': '1' } });
      if (calls.length === 2) return new Response('{"code":"INTERNAL"}', { status: 503 });
      return Response.json({ id: 'job_1' }, { status: 202 });
    },
  });
  assert.deepEqual(await flaky.jobs.create({ template_id: 'tpl' }), { id: 'job_1' });
  assert.equal(calls.length, 3);
  assert.ok(calls[0].key);
  assert.ok(calls.every((c) => c.key === calls[0].key));

  let posts = 0;
  const once = new FentaWeb({ apiKey: 'fw_test', baseUrl: 'http://api.test', fetch: async () => { posts++; return new Response('{}', { status: 503 }); } });
  assert.equal((await once.workflows.create({ name: 'x' }).catch((e) => e)).status, 503);
  assert.equal(posts, 1, 'a POST without an idempotency key is not repeated');
});

test('the type declarations name every operation, under its resource', () => {
  const declarations = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');
  for (const [resource, methods] of Object.entries(OPERATIONS)) {
    const block = declarations.split(`readonly ${resource}: {`)[1]?.split('\n  };')[0];
    assert.ok(block, `index.d.ts declares ${resource}`);
    for (const method of Object.keys(methods)) assert.match(block, new RegExp(`\\n    ${method}\\(`), `${resource}.${method}`);
  }
});

test('webhook signatures are verified over the timestamp and the raw body', () => {
  const secret = 'whsec_test';
  const body = '{"id":"evt_1","type":"job.completed"}';
  const t = Math.floor(Date.now() / 1000);
  const header = `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  assert.equal(FentaWeb.verifyWebhook(body, header, secret), true);
  assert.equal(FentaWeb.verifyWebhook(body.replace('completed', 'failed'), header, secret), false);
  assert.equal(FentaWeb.verifyWebhook(body, header, 'whsec_other'), false);
  assert.equal(FentaWeb.verifyWebhook(body, header, secret, 300, t + 301), false);
  assert.equal(FentaWeb.verifyWebhook(body, 'garbage', secret), false);
});

/** A valid grey PNG of width × height (what the API probes with ffprobe). */
function png(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => (bytes.reduce((c, b) => crcTable[(c ^ b) & 0xff] ^ (c >>> 8), 0xffffffff) ^ 0xffffffff) >>> 0;
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    data.copy(out, 8);
    out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter: none
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
