// "Copy as API call": the request that made a job (the API answers it as the job's `request`), as curl, JavaScript
// fetch and Python requests.
import type { Job } from '@/api/types';

export type ApiCall = { method: string; path: string; body?: unknown; orgId?: string | null };

const KEY_PLACEHOLDER = '$FENTA_API_KEY';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function toCurl(call: ApiCall, baseUrl: string): string {
  const lines = [`curl -X ${call.method} ${shellQuote(baseUrl + call.path)}`, `  -H "Authorization: Bearer ${KEY_PLACEHOLDER}"`];
  if (call.orgId) lines.push(`  -H ${shellQuote(`X-Org-Id: ${call.orgId}`)}`);
  if (call.body !== undefined) {
    lines.push(`  -H 'Content-Type: application/json'`);
    lines.push(`  -d ${shellQuote(JSON.stringify(call.body, null, 2))}`);
  }
  return lines.join(' \\\n');
}

export function toFetch(call: ApiCall, baseUrl: string): string {
  const headers: string[] = ['    Authorization: `Bearer ${process.env.FENTA_API_KEY}`,'];
  if (call.orgId) headers.push(`    'X-Org-Id': ${JSON.stringify(call.orgId)},`);
  if (call.body !== undefined) headers.push(`    'Content-Type': 'application/json',`);
  const body = call.body !== undefined ? `\n  body: JSON.stringify(${indent(JSON.stringify(call.body, null, 2), 2)}),` : '';
  return `const response = await fetch(${JSON.stringify(baseUrl + call.path)}, {\n  method: '${call.method}',\n  headers: {\n${headers.join('\n')}\n  },${body}\n});\nconst job = await response.json();\nconsole.log(job.id, job.status);`;
}

export function toPython(call: ApiCall, baseUrl: string): string {
  const headers = ['    "Authorization": f"Bearer {os.environ[\'FENTA_API_KEY\']}",'];
  if (call.orgId) headers.push(`    "X-Org-Id": ${JSON.stringify(call.orgId)},`);
  const body = call.body !== undefined ? `,\n    json=${indent(pythonLiteral(call.body), 4)}` : '';
  return `import os\nimport requests\n\nresponse = requests.${call.method.toLowerCase()}(\n    ${JSON.stringify(baseUrl + call.path)},\n    headers={\n${headers.map((h) => '    ' + h).join('\n')}\n    }${body},\n)\nresponse.raise_for_status()\njob = response.json()\nprint(job["id"], job["status"])`;
}

/** A JSON value as a Python literal (True/False/None), pretty-printed like json.dumps(indent=2). */
export function pythonLiteral(value: unknown, depth = 0): string {
  const pad = '  '.repeat(depth + 1);
  const end = '  '.repeat(depth);
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'None';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => pad + pythonLiteral(v, depth + 1)).join(',\n')}\n${end}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${pythonLiteral(v, depth + 1)}`).join(',\n')}\n${end}}`;
}

function indent(text: string, spaces: number): string {
  return text.replace(/\n/g, '\n' + ' '.repeat(spaces));
}

/**
 * The request that made a job: the one the API stores with it (`request`: method, path and the body it read), else —
 * for a job a schedule started, which has none — the run of its workflow with its budget (its variables are not known).
 * `orgId` adds the X-Org-Id header (for users in more than one org).
 */
export function jobRequest(job: Pick<Job, 'id' | 'workflow_id' | 'budget' | 'request'>, orgId?: string | null): { call: ApiCall; exact: boolean } | null {
  const org = orgId ? { orgId } : {};
  const stored = job.request;
  if (stored?.path) return { call: { method: stored.method, path: stored.path, body: stored.body ?? undefined, ...org }, exact: true };
  if (job.workflow_id) {
    const body = job.budget ? { budget: job.budget } : {};
    return { call: { method: 'POST', path: `/v1/workflows/${job.workflow_id}/run`, body, ...org }, exact: false };
  }
  return null;
}

/** The topic a job was made from (`config.script.prompt` of a POST /v1/jobs body), when its request says. */
export function jobTopic(job: Pick<Job, 'request'>): string | null {
  const body = job.request?.body as { config?: { script?: { prompt?: unknown } } } | null | undefined;
  const prompt = body?.config?.script?.prompt;
  return typeof prompt === 'string' && prompt.trim() ? prompt.trim() : null;
}

/** The words of a job's request a search can match: its topic and the string values of a run's variables. */
export function requestText(job: Pick<Job, 'request'>): string {
  const body = job.request?.body as { variables?: Record<string, unknown> } | null | undefined;
  const vars = body?.variables && typeof body.variables === 'object' ? Object.values(body.variables).filter((v): v is string => typeof v === 'string') : [];
  return [jobTopic(job) ?? '', ...vars].join(' ');
}

/**
 * Before the API answered a job's request, this browser kept the body of each job it created in localStorage
 * ('fenta.jobRequest.<id>'). Nothing reads those any more: they are removed once.
 */
export function forgetLocalJobRequests(): void {
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (key?.startsWith('fenta.jobRequest.')) localStorage.removeItem(key);
    }
  } catch {
    /* storage unavailable: nothing to remove */
  }
}
