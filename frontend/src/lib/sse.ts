/**
 * A small Server-Sent Events reader over fetch streaming. Unlike EventSource it can send an
 * Authorization header, so the access token never has to sit in a URL (where proxies and
 * server logs would record it).
 *
 * Each event's id is passed on: the caller sends the last one back as `Last-Event-ID` when it
 * reconnects, and the gateway replays what was missed (or says to refetch once).
 */
import { createParser, type EventSourceParser } from "eventsource-parser";

export interface ServerSentEvent {
  event: string;
  data: string;
  /** The event's id, when it has one. */
  id?: string;
}

/** Splits a text stream into events (eventsource-parser, which follows the WHATWG rules). */
export class EventStreamParser {
  private readonly parser: EventSourceParser;

  constructor(onEvent: (event: ServerSentEvent) => void) {
    // "retry" is read past: backoff is ours.
    this.parser = createParser({
      onEvent: ({ event, data, id }) => onEvent({ event: event || "message", data, ...(id ? { id } : {}) }),
    });
  }

  push(chunk: string): void {
    this.parser.feed(chunk);
  }
}

/** Reads one event-stream response body to its end, calling `onEvent` per event. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  parser: EventStreamParser,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    parser.push(decoder.decode(value, { stream: true }));
  }
}
