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

/** Every channel healthy: the layout asks on every page (for the outage banner). */
export function healthyChannels() {
  return http.get(api("/api/channels"), () =>
    HttpResponse.json(
      (["website", "amazon", "blinkit"] as const).map((channel) => ({
        channel,
        circuit: "closed",
        lastSuccessAt: new Date().toISOString(),
        lastErrorAt: null,
        lastError: null,
        failingSince: null,
        failedPolls: 0,
        ordersIngested: 10,
      })),
    ),
  );
}

/** The pipeline is live (GET /api/pipeline) until a test says otherwise: the header asks. */
export function livePipeline() {
  return http.get(api("/api/pipeline"), () =>
    HttpResponse.json({
      state: "live",
      behindSeconds: 0.4,
      waiting: 2,
      lanes: [
        { lane: "live", waiting: 2, oldestWaitingAgeSeconds: 0.4 },
        { lane: "history", waiting: 0, oldestWaitingAgeSeconds: 0 },
      ],
      measuredAt: new Date().toISOString(),
    }),
  );
}

/** No saved views until a test serves some: the orders page asks for them beside the filters. */
export function noSavedViews() {
  return http.get(api("/api/views"), () => HttpResponse.json({ views: [] }));
}

/** The people the app names (history, notes, audit): the two test users. */
export function userNames() {
  return http.get(api("/api/users/names"), () =>
    HttpResponse.json({
      users: [
        { id: "u_admin", displayName: "Asha Admin" },
        { id: "u_viewer", displayName: "Vik Viewer" },
      ],
    }),
  );
}

/** No tags in use until a test serves some: the tag picker asks beside the filters. */
export function noTagsInUse() {
  return http.get(api("/api/orders/tags"), () => HttpResponse.json({ tags: [] }));
}

export const server = setupServer(
  silentEventStream(),
  healthyChannels(),
  livePipeline(),
  noSavedViews(),
  userNames(),
  noTagsInUse(),
);
