import { http, HttpResponse } from "msw";
import { Session } from "../../lib/session";
import { ADMIN, fakeJwt, setSessionCookie } from "../../test/fixtures";
import { api, ORIGIN, server } from "../../test/server";
import { followOrderEvents, type OrderEventNotice, type StreamState } from "./orderEvents";

/** Signs in and follows the stream until ``count`` notices have arrived; resets are counted. */
async function followUntil(count: number, onState: (state: StreamState) => void = () => {}, resets = { count: 0 }) {
  const session = new Session({ baseUrl: ORIGIN });
  await session.signIn(ADMIN.email, "secret");
  const notices: OrderEventNotice[] = [];
  const controller = new AbortController();
  void followOrderEvents({
    session,
    baseUrl: ORIGIN,
    onNotices: (batch) => {
      notices.push(...batch);
      if (notices.length >= count) controller.abort();
    },
    onReset: () => {
      resets.count += 1;
    },
    onState,
    signal: controller.signal,
    minDelayMs: 10,
  });
  return notices;
}

describe("order event stream", () => {
  it("sends the token in a header, renews it after a 401 and reconnects", async () => {
    const fresh = fakeJwt(Date.now() + 900_000, "fresh");
    const seen: { authorization: string | null; url: string }[] = [];
    server.use(
      http.post(api("/api/auth/login"), () => {
        setSessionCookie();
        return HttpResponse.json({
          accessToken: fakeJwt(Date.now() + 900_000, "stale"),
          refreshToken: "r1",
          tokenType: "Bearer",
          expiresIn: 900,
          user: ADMIN,
        });
      }),
      http.post(api("/api/auth/refresh"), () => HttpResponse.json({ accessToken: fresh, refreshToken: "r2" })),
      http.get(api("/api/events"), ({ request }) => {
        seen.push({ authorization: request.headers.get("Authorization"), url: request.url });
        if (request.headers.get("Authorization") !== `Bearer ${fresh}`) {
          return HttpResponse.json({ error: { code: "unauthorized", message: "expired", requestId: "r" } }, { status: 401 });
        }
        const body = `: connected\n\n${changed("e-1", "o1")}`;
        return new HttpResponse(body, { headers: { "Content-Type": "text/event-stream" } });
      }),
    );
    const states: StreamState[] = [];
    const notices = await followUntil(1, (state) => states.push(state));

    await vi.waitFor(() => expect(notices).toEqual([{ kind: "created", orderId: "o1", status: "PLACED" }]));
    expect(seen.map(({ authorization }) => authorization)).toEqual([expect.stringMatching(/^Bearer /), `Bearer ${fresh}`]);
    expect(seen.every(({ url }) => !url.includes("token"))).toBe(true);
    expect(states).toContain("live");
  });

  it("reconnects with the last event id, so the gateway replays what was missed", async () => {
    const lastEventIds: (string | null)[] = [];
    server.use(
      http.post(api("/api/auth/login"), () =>
        HttpResponse.json({
          accessToken: fakeJwt(Date.now() + 900_000, "a"),
          refreshToken: "r1",
          tokenType: "Bearer",
          expiresIn: 900,
          user: ADMIN,
        }),
      ),
      http.get(api("/api/events"), ({ request }) => {
        lastEventIds.push(request.headers.get("Last-Event-ID"));
        const n = lastEventIds.length;
        const body = `id: g-${n}0\nevent: connected\ndata: {"resumed":${n > 1}}\n\n${changed(`g-${n}1`, `o${n}`)}`;
        return new HttpResponse(body, { headers: { "Content-Type": "text/event-stream" } });
      }),
    );
    const notices = await followUntil(2);

    await vi.waitFor(() => expect(notices).toHaveLength(2));
    expect(notices.map(({ orderId }) => orderId)).toEqual(["o1", "o2"]);
    expect(lastEventIds.slice(0, 2)).toEqual([null, "g-11"]);
  });

  it("tells its caller to refetch once on a reset", async () => {
    server.use(
      http.post(api("/api/auth/login"), () =>
        HttpResponse.json({
          accessToken: fakeJwt(Date.now() + 900_000, "a"),
          refreshToken: "r1",
          tokenType: "Bearer",
          expiresIn: 900,
          user: ADMIN,
        }),
      ),
      http.get(api("/api/events"), () => {
        const body = `id: g-5\nevent: reset\ndata: {"reason":"too old"}\n\n${changed("g-6", "o9")}`;
        return new HttpResponse(body, { headers: { "Content-Type": "text/event-stream" } });
      }),
    );
    const resets = { count: 0 };
    const notices = await followUntil(1, () => {}, resets);

    await vi.waitFor(() => expect(notices).toHaveLength(1));
    expect(resets.count).toBe(1);
  });
});

/** An `orders.changed` message announcing one created order. */
function changed(id: string, orderId: string): string {
  const change = { orderId, kind: "created", eventType: "order.created", status: "PLACED" };
  return `id: ${id}\nevent: orders.changed\ndata: ${JSON.stringify({ changes: [change] })}\n\n`;
}
