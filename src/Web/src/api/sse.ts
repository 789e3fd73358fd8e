// Server-Sent Events over fetch: EventSource cannot send the Authorization header, so the stream is read with
// fetch and parsed here (the text/event-stream format: event, data, id lines; a blank line ends an event).
import { authedFetch } from './client';
import { toApiError } from './problem';

export type SseEvent = { event: string; data: string; id?: string };

/** An incremental parser: feed it chunks of text, it calls onEvent for each complete event. */
export function createSseParser(onEvent: (e: SseEvent) => void) {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  const dispatch = () => {
    if (data.length > 0) onEvent({ event: event || 'message', data: data.join('\n'), id });
    event = '';
    data = [];
  };
  return {
    feed(chunk: string) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer[nl] === '\r' && buffer[nl + 1] === '\n' ? 2 : 1));
        if (line === '') dispatch();
        else if (line.startsWith(':')) continue;
        else {
          const colon = line.indexOf(':');
          const name = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (name === 'event') event = value;
          else if (name === 'data') data.push(value);
          else if (name === 'id') id = value;
        }
      }
    },
    /** The stream ended: an event without its closing blank line is dropped, as EventSource does. */
    end() {
      buffer = '';
      data = [];
      event = '';
    },
  };
}

/**
 * Reads the events of `url` until the stream ends or `signal` aborts. Rejects with an ApiError when the server
 * answers with an error (a problem).
 */
export async function streamEvents(url: string, onEvent: (e: SseEvent) => void, signal: AbortSignal): Promise<void> {
  const res = await authedFetch(url, { headers: { Accept: 'text/event-stream' }, signal });
  if (!res.ok || !res.body) {
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    throw toApiError(res.status, body);
  }
  const parser = createSseParser(onEvent);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
    parser.end();
  } finally {
    reader.releaseLock();
  }
}
