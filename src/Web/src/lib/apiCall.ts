// "Copy as API call": the request that made a job, as curl, JavaScript fetch and Python requests.

export type ApiCall = { method: 'POST' | 'GET'; path: string; body?: unknown; orgId?: string | null };

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

// The API does not return a job's request yet, so the web keeps the body of each job it creates (not secret: the same
// config the job page shows) in localStorage, and reads it back for "copy as API call".
const STORE = 'fenta.jobRequest.';

export function rememberJobRequest(jobId: string, call: ApiCall): void {
  try {
    localStorage.setItem(STORE + jobId, JSON.stringify(call));
  } catch {
    /* storage full or unavailable: the job page says the request is unknown */
  }
}

export function recalledJobRequest(jobId: string): ApiCall | null {
  try {
    const raw = localStorage.getItem(STORE + jobId);
    return raw ? (JSON.parse(raw) as ApiCall) : null;
  } catch {
    return null;
  }
}

/**
 * The request that made a job: the one the API stores with it when it returns one (`request`), else the one this
 * browser sent, else — for a workflow run — the run with its budget (its variables are not known).
 */
export function jobRequest(job: { id: string; workflow_id?: string | null; budget?: unknown; request?: unknown }): { call: ApiCall; exact: boolean } | null {
  const stored = job.request as { method?: string; path?: string; body?: unknown } | undefined;
  if (stored && typeof stored === 'object' && stored.path) return { call: { method: (stored.method as 'POST') ?? 'POST', path: stored.path, body: stored.body }, exact: true };
  const recalled = recalledJobRequest(job.id);
  if (recalled) return { call: recalled, exact: true };
  if (job.workflow_id) {
    const body = job.budget ? { budget: job.budget } : {};
    return { call: { method: 'POST', path: `/v1/workflows/${job.workflow_id}/run`, body }, exact: false };
  }
  return null;
}
