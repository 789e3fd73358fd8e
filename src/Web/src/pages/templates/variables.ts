// The run form of a workflow, built from what it declares: its `variables` (name → default value) and the
// `{{name}}` placeholders its nodes' params use (a placeholder without a default must be given). Each field gets an
// input by the type of its default; the form's values go back to JSON by the same type.

export type VarKind = 'text' | 'longtext' | 'number' | 'boolean' | 'json';
export type VarField = { name: string; kind: VarKind; default: unknown; required: boolean; usedBy: string[] };
export type VarValue = string | boolean;

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

type GraphLike = { nodes?: { id: string; params?: Record<string, unknown> | null }[] } | null | undefined;

function collect(value: unknown, into: Set<string>) {
  if (typeof value === 'string') for (const m of value.matchAll(PLACEHOLDER)) into.add(m[1]);
  else if (Array.isArray(value)) value.forEach((v) => collect(v, into));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collect(v, into));
}

/** Placeholder name → the ids of the nodes whose params use it. */
export function placeholders(graph: GraphLike): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const node of graph?.nodes ?? []) {
    const names = new Set<string>();
    collect(node.params ?? {}, names);
    for (const n of names) out.set(n, [...(out.get(n) ?? []), node.id]);
  }
  return out;
}

function kindOf(value: unknown): VarKind {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return value.length > 80 || value.includes('\n') ? 'longtext' : 'text';
  if (value === null || value === undefined) return 'text';
  return 'json';
}

/** The fields of a workflow's run form: declared variables first (in their order), then undeclared placeholders. */
export function variableFields(variables: unknown, graph?: GraphLike): VarField[] {
  const used = placeholders(graph);
  const declared = variables && typeof variables === 'object' && !Array.isArray(variables) ? (variables as Record<string, unknown>) : {};
  const fields: VarField[] = Object.entries(declared).map(([name, def]) => ({
    name,
    kind: kindOf(def),
    default: def,
    required: false,
    usedBy: used.get(name) ?? [],
  }));
  for (const [name, usedBy] of used) {
    if (!(name in declared)) fields.push({ name, kind: 'text', default: undefined, required: true, usedBy });
  }
  return fields;
}

/** Initial form values: `current` (a schedule's saved variables) over the defaults. */
export function initialValues(fields: VarField[], current?: unknown): VarValue[] {
  const saved = current && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : {};
  return fields.map((f) => {
    const v = f.name in saved ? saved[f.name] : f.default;
    if (f.kind === 'boolean') return v === true;
    if (f.kind === 'json') return v === undefined ? '' : JSON.stringify(v, null, 2);
    if (v === undefined || v === null) return '';
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

/**
 * The form's values as the request's `variables`, or per-field errors. Only values that differ from the default are
 * sent (the API merges them over the workflow's own), unless `all` is set.
 */
export function toVariables(fields: VarField[], values: VarValue[], all = false): { variables: Record<string, unknown>; errors: Record<number, string> } {
  const variables: Record<string, unknown> = {};
  const errors: Record<number, string> = {};
  fields.forEach((f, i) => {
    const raw = values[i];
    let value: unknown;
    if (f.kind === 'boolean') value = raw === true;
    else {
      const text = typeof raw === 'string' ? raw : '';
      if (text.trim() === '') {
        if (f.required) errors[i] = 'Required';
        return;
      }
      if (f.kind === 'number') {
        const n = Number(text);
        if (!Number.isFinite(n)) {
          errors[i] = 'Enter a number';
          return;
        }
        value = n;
      } else if (f.kind === 'json') {
        try {
          value = JSON.parse(text);
        } catch {
          errors[i] = 'Enter valid JSON';
          return;
        }
      } else value = text;
    }
    if (all || f.required || JSON.stringify(value) !== JSON.stringify(f.default)) variables[f.name] = value;
  });
  return { variables, errors };
}

/** Where the API names a variable in errors[].field ("variables.topic", "variables[topic]") → its field index. */
export function variablesFieldMap(fields: VarField[], prefix = 'vars'): Record<string, `${string}.${number}`> {
  const map: Record<string, `${string}.${number}`> = {};
  fields.forEach((f, i) => {
    map[`variables.${f.name}`] = `${prefix}.${i}`;
    map[`variables[${f.name}]`] = `${prefix}.${i}`;
  });
  return map;
}
