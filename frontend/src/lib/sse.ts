/**
 * A small Server-Sent Events reader over fetch streaming. Unlike EventSource it can send an
 * Authorization header, so the access token never has to sit in a URL (where proxies and
 * server logs would record it).
 *
 * Event ids are not kept: the gateway's stream is live fan-out and never replays, so there is
 * no Last-Event-ID to send back; events missed while disconnected are simply not delivered.
 */
import { createParser, type EventSourceParser } from "eventsource-parser";

export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Splits a text stream into events (eventsource-parser, which follows the WHATWG rules). */
export class EventStreamParser {
  private readonly parser: EventSourceParser;

  constructor(onEvent: (event: ServerSentEvent) => void) {
    // "id" and "retry" are read past: there is no replay to resume, and backoff is ours.
    this.parser = createParser({
      onEvent: ({ event, data }) => onEvent({ event: event || "message", data }),
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
