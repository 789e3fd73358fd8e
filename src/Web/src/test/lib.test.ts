import { describe, expect, it, vi } from 'vitest';
import { ApiError, applyProblemToForm, errorMessage, fieldErrors, unwrap } from '@/api/problem';
import { createSseParser, type SseEvent } from '@/api/sse';
import { applyJobEvent } from '@/api/queries';
import { forgetLocalJobRequests, jobRequest, jobTopic, pythonLiteral, requestText, toCurl, toFetch, toPython } from '@/lib/apiCall';
import { jobTitle } from '@/components/JobStatus';
import { buildJobRequest, profileOfTemplate, type CreateValues } from '@/lib/jobRequest';
import { formatDuration, formatUsd } from '@/lib/format';
import type { Job } from '@/api/types';

const problem = {
  status: 400,
  code: 'VALIDATION_FAILED',
  detail: 'The request has invalid fields.',
  errors: [
    { field: 'email', message: 'is already registered' },
    { field: 'config.tts.speed', message: 'must be between 0.5 and 2' },
    { field: 'config.sources[0].model', message: 'unknown model' },
  ],
};

describe('problem helper', () => {
  it('unwrap returns data or throws an ApiError carrying the problem', () => {
    expect(unwrap({ data: 1, response: new Response(null, { status: 200 }) })).toBe(1);
    try {
      unwrap({ error: problem, response: new Response(null, { status: 400 }) });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe('VALIDATION_FAILED');
      expect(errorMessage(e)).toBe('The request has invalid fields.');
    }
  });

  it('falls back to a message naming the status when the body is not a problem', () => {
    const e = (() => {
      try {
        unwrap({ error: undefined, response: new Response(null, { status: 502 }) });
      } catch (x) {
        return x;
      }
    })();
    expect(errorMessage(e)).toBe('The request failed (HTTP 502).');
  });

  it('puts errors[].field on matching form fields and returns the rest', () => {
    const setError = vi.fn();
    const error = new ApiError(400, problem);
    expect(fieldErrors(error)).toEqual({ email: 'is already registered', 'config.tts.speed': 'must be between 0.5 and 2', 'config.sources[0].model': 'unknown model' });
    const { unmatched, message } = applyProblemToForm(error, setError, ['email', 'speed'] as const, { 'config.tts.speed': 'speed' });
    expect(setError).toHaveBeenCalledWith('email', { type: 'server', message: 'is already registered' });
    expect(setError).toHaveBeenCalledWith('speed', { type: 'server', message: 'must be between 0.5 and 2' });
    expect(unmatched).toEqual({ 'config.sources[0].model': 'unknown model' });
    expect(message).toBe('The request has invalid fields.');
  });
});

describe('SSE parser', () => {
  it('parses events split across chunks, CRLF, comments and multi-line data; drops an unfinished one at the end', () => {
    const events: SseEvent[] = [];
    const p = createSseParser((e) => events.push(e));
    p.feed(': keep-alive\r\nevent: node\r\ndata: {"node_id":"tts",');
    p.feed('"status":"running"}\r\nid: 1\r\n\r\nevent: job\ndata: a\ndata: b\n\n');
    p.feed('data: tail');
    p.end();
    expect(events).toEqual([
      { event: 'node', data: '{"node_id":"tts","status":"running"}', id: '1' },
      { event: 'job', data: 'a\nb', id: '1' },
    ]);
  });
});

const job = { id: 'job_1', status: 'queued', progress: 0, nodes: [], error: null } as unknown as Job;

describe('job events', () => {
  it('applies node and job events to the cached job', () => {
    let j = applyJobEvent(job, 'node', { node_id: 'tts', type: 'Voice.TTS', status: 'running', attempt: 1 });
    j = applyJobEvent(j, 'node', { node_id: 'tts', status: 'succeeded', attempt: 1 });
    j = applyJobEvent(j, 'job', { id: 'job_1', status: 'processing', progress: 40 });
    expect(j.status).toBe('processing');
    expect(j.progress).toBe(40);
    expect(j.nodes).toHaveLength(1);
    expect(j.nodes![0]).toMatchObject({ node_id: 'tts', type: 'Voice.TTS', status: 'succeeded' });
  });
});

const values: CreateValues = {
  templateId: 'tmpl_shorts_v1',
  prompt: '  Night buses start running in the city ',
  genre: 'news',
  lang: 'en',
  durationSeconds: 20,
  sourceType: 'stock',
  stockQuery: '',
  stockCount: 3,
  assetIds: [],
  model: '',
  mediaPrompt: '',
  ttsProvider: 'auto',
  voice: 'en-us',
  speed: 1.1,
  subtitleStyle: 'none',
  musicPrompt: '',
  profile: '1x1_1080p',
  quality: 'draft',
  maxCostUsd: '0.5',
};

describe('the create form → POST /v1/jobs body', () => {
  it('builds the documented direct job', () => {
    expect(buildJobRequest(values)).toEqual({
      template_id: 'tmpl_shorts_v1',
      config: {
        sources: [{ type: 'stock', query: 'Night buses start running in the city', count: 3, orientation: 'square' }],
        script: { prompt: 'Night buses start running in the city', genre: 'news', lang: 'en', duration_seconds: 20 },
        tts: { provider: 'auto', speed: 1.1, voice: 'en-us' },
        subtitles: false,
        output: { profile: '1x1_1080p', quality: 'draft' },
      },
      budget: { max_cost_usd: 0.5, max_tokens: null },
    });
  });

  it('asks for music from a prompt only when one is given', () => {
    expect(buildJobRequest({ ...values, musicPrompt: '  calm piano ' }).config!.music).toEqual({ prompt: 'calm piano', volume: 0.25 });
    expect(buildJobRequest(values).config).not.toHaveProperty('music');
  });

  it('uses uploads and AI models as sources', () => {
    expect(buildJobRequest({ ...values, sourceType: 'upload', assetIds: ['ast_1', 'ast_2'] }).config!.sources).toEqual([{ type: 'upload', asset_ids: ['ast_1', 'ast_2'] }]);
    const kai = buildJobRequest({ ...values, templateId: '', maxCostUsd: '', sourceType: 'kai_video', model: 'veo-3.1-fast', profile: '16x9_720p', subtitleStyle: 'clean_box' });
    expect(kai.config!.sources).toEqual([{ type: 'kai_video', model: 'veo-3.1-fast', prompt: 'Night buses start running in the city', aspect_ratio: '16:9' }]);
    expect(kai.config!.subtitles).toEqual({ style: 'clean_box' });
    expect(kai).not.toHaveProperty('template_id');
    expect(kai).not.toHaveProperty('budget');
  });

  it('maps a template to an output profile', () => {
    const profiles = ['9x16_1080p', '9x16_720p', '16x9_1080p', '1x1_1080p', '4x5_1080p'];
    expect(profileOfTemplate('9:16', '1080x1920', profiles)).toBe('9x16_1080p');
    expect(profileOfTemplate('16:9', '1280x720', profiles)).toBe('16x9_1080p');
    expect(profileOfTemplate('2:1', '100x50', profiles)).toBeUndefined();
  });
});

describe('copy as API call', () => {
  const call = { method: 'POST' as const, path: '/v1/jobs', body: { template_id: "it's", config: { subtitles: false, n: null } }, orgId: 'org_2' };

  it('curl quotes the body for the shell', () => {
    const curl = toCurl(call, 'http://127.0.0.1:8080');
    expect(curl).toContain("curl -X POST 'http://127.0.0.1:8080/v1/jobs'");
    expect(curl).toContain('-H "Authorization: Bearer $FENTA_API_KEY"');
    expect(curl).toContain("-H 'X-Org-Id: org_2'");
    expect(curl).toContain(`"template_id": "it'\\''s"`);
  });

  it('JavaScript sends the same JSON', () => {
    const js = toFetch(call, 'https://api.example');
    expect(js).toContain('fetch("https://api.example/v1/jobs"');
    const literal = js.slice(js.indexOf('JSON.stringify(') + 15, js.lastIndexOf('),'));
    expect(JSON.parse(literal)).toEqual(call.body);
  });

  it('Python uses requests with a Python literal', () => {
    const py = toPython(call, 'https://api.example');
    expect(py).toContain('requests.post(');
    expect(py).toContain('"subtitles": False');
    expect(py).toContain('"n": None');
    expect(pythonLiteral({ a: [true, 1.5, 'x'] })).toBe('{\n  "a": [\n    True,\n    1.5,\n    "x"\n  ]\n}');
  });

  const job = (over: Partial<Job>): Job => ({ id: 'job_9', workflow_id: null, parent_job_id: null, budget: null, request: null, ...over }) as Job;

  it('uses the request the API stores with the job', () => {
    const request = { method: 'POST', path: '/v1/jobs', body: { template_id: 'tpl_1', config: { script: { prompt: 'Cats in space' } } } };
    expect(jobRequest(job({ request }))).toEqual({ call: { method: 'POST', path: '/v1/jobs', body: request.body }, exact: true });
    expect(jobRequest(job({ request }), 'org_2')!.call.orgId).toBe('org_2');
    // A retry's request has no body: no -d.
    const retry = jobRequest(job({ request: { method: 'POST', path: '/v1/jobs/job_1/retry', body: null } }))!;
    expect(retry.call.body).toBeUndefined();
    expect(toCurl(retry.call, 'http://x')).not.toContain('-d');
  });

  it('a scheduled run (no request) falls back to running its workflow; anything else has no call', () => {
    expect(jobRequest(job({ workflow_id: 'wf_1', budget: { max_cost_usd: 1, max_tokens: null } }))).toEqual({
      call: { method: 'POST', path: '/v1/workflows/wf_1/run', body: { budget: { max_cost_usd: 1, max_tokens: null } } },
      exact: false,
    });
    expect(jobRequest(job({}))).toBeNull();
  });

  it('titles and search text come from the API, not this browser', () => {
    localStorage.setItem('fenta.jobRequest.job_9', JSON.stringify({ body: { config: { script: { prompt: 'local topic' } } } }));
    expect(jobTitle(job({}))).toBe('Job job_9');
    const made = job({ request: { method: 'POST', path: '/v1/jobs', body: { config: { script: { prompt: ' Cats in space ' } } } } });
    expect(jobTopic(made)).toBe('Cats in space');
    expect(jobTitle(made)).toBe('Cats in space');
    expect(jobTitle(job({ workflow_id: 'wf_1' }), 'Daily news')).toBe('Run of Daily news');
    expect(jobTitle(job({ parent_job_id: 'job_1' }))).toBe('Retry of job_1');
    const run = job({ workflow_id: 'wf_1', request: { method: 'POST', path: '/v1/workflows/wf_1/run', body: { variables: { topic: 'Otters', n: 3 } } } });
    expect(requestText(run)).toContain('Otters');
    forgetLocalJobRequests();
    expect(localStorage.getItem('fenta.jobRequest.job_9')).toBeNull();
  });
});

describe('formatting', () => {
  it('formats durations and dollars', () => {
    expect(formatDuration(75)).toBe('1:15');
    expect(formatDuration(3700)).toBe('1:01:40');
    expect(formatUsd(0.0123)).toBe('$0.0123');
    expect(formatUsd(1.5)).toBe('$1.50');
  });
});

describe('node order', () => {
  it('sorts steps by start time, not-started last, stable otherwise', async () => {
    const { sortNodes } = await import('@/api/queries');
    const n = (node_id: string, started_at: string | null) => ({ node_id, started_at, completed_at: null }) as unknown as Job['nodes'] extends (infer T)[] | null ? T : never;
    const sorted = sortNodes([n('render', null), n('tts', '2026-01-01T00:00:02Z'), n('script', '2026-01-01T00:00:01Z'), n('timeline', null)]);
    expect(sorted.map((x) => x.node_id)).toEqual(['script', 'tts', 'render', 'timeline']);
  });
});
