// One place that turns API failures (RFC 9457 problem+json) into what the UI shows: a message for an alert, and
// errors[].field put on the matching form field.
import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import type { Problem } from './types';

/** An API failure: the HTTP status and the problem body (or a synthesized one when the body was not a problem). */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(status: number, problem: Problem) {
    super(problemMessage(problem, status));
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && ('detail' in value || 'title' in value || 'code' in value || 'errors' in value);
}

export function problemMessage(problem: Problem | undefined, status?: number): string {
  if (problem?.detail) return problem.detail;
  if (problem?.title) return problem.title;
  if (status === 0 || status === undefined) return 'The server could not be reached. Check your connection and try again.';
  return `The request failed (HTTP ${status}).`;
}

/**
 * Unwraps an openapi-fetch result: the data, or an ApiError carrying the problem. Use inside queryFn/mutationFn:
 *   const job = unwrap(await api.GET('/v1/jobs/{jobId}', { params: { path: { jobId } } }));
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.error === undefined) return result.data as T;
  throw toApiError(result.response.status, result.error);
}

export function toApiError(status: number, body: unknown): ApiError {
  if (isProblem(body)) return new ApiError(status, body);
  if (typeof body === 'string' && body.trim()) return new ApiError(status, { status, detail: body.slice(0, 300) });
  return new ApiError(status, { status });
}

/** The message to show for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return 'The server could not be reached. Check your connection and try again.';
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

/** errors[] of a problem by field, first message per field ("config.tts.speed" → "must be between 0.5 and 2"). */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const list = error instanceof ApiError ? error.problem.errors : isProblem(error) ? error.errors : undefined;
  for (const e of list ?? []) {
    if (e.field && e.message && !(e.field in out)) out[e.field] = e.message;
  }
  return out;
}

/**
 * Puts each errors[].field of a failed request on the form field it names and returns the rest: what matched no
 * field, to show in the form's alert. `fieldMap` renames API fields to form fields ("config.script.prompt" → "prompt");
 * by default a field matches a form field of the same name, compared case-insensitively.
 */
export function applyProblemToForm<T extends FieldValues>(
  error: unknown,
  setError: UseFormSetError<T>,
  formFields: readonly Path<T>[],
  fieldMap: Record<string, Path<T>> = {},
): { unmatched: Record<string, string>; message: string } {
  const unmatched: Record<string, string> = {};
  for (const [field, message] of Object.entries(fieldErrors(error))) {
    const target = fieldMap[field] ?? formFields.find((f) => f.toLowerCase() === field.toLowerCase());
    if (target) setError(target, { type: 'server', message });
    else unmatched[field] = message;
  }
  return { unmatched, message: errorMessage(error) };
}
