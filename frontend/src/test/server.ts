import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";

export const ORIGIN = "http://localhost:3000";
export const api = (path: string) => `${ORIGIN}${path}`;

/** An event stream that stays open, silent, until the client goes away. */
export function silentEventStream() {
  return http.get(api("/api/events"), ({ request }) => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        request.signal.addEventListener("abort", () => controller.close());
      },
    });
    return new HttpResponse(stream, { headers: { "Content-Type": "text/event-stream" } });
  });
}

export const server = setupServer(silentEventStream());
