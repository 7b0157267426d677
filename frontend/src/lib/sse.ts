/**
 * A small Server-Sent Events reader over fetch streaming. Unlike EventSource it can send an
 * Authorization header, so the access token never has to sit in a URL (where proxies and
 * server logs would record it).
 *
 * Event ids are not kept: the gateway's stream is live fan-out and never replays, so there is
 * no Last-Event-ID to send back; events missed while disconnected are simply not delivered.
 */
export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Splits a text stream into events, following the WHATWG event-stream parsing rules. */
export class EventStreamParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";

  constructor(private readonly onEvent: (event: ServerSentEvent) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    // The last piece has no line ending yet; keep it for the next chunk. A lone trailing "\r"
    // might be the first half of "\r\n", so it waits too.
    this.buffer = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    // "id" and "retry" are read past: there is no replay to resume, and backoff is ours.
  }

  private dispatch(): void {
    if (this.data.length) {
      this.onEvent({ event: this.event || "message", data: this.data.join("\n") });
    }
    this.data = [];
    this.event = "";
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
