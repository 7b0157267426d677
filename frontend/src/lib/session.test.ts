import { http, HttpResponse } from "msw";
import { ADMIN, fakeJwt, setSessionCookie } from "../test/fixtures";
import { api, ORIGIN, server } from "../test/server";
import { createApi, unwrap } from "./api";
import { Session } from "./session";

const LATER = () => Date.now() + 15 * 60_000;

/** An auth server whose first access token is already expired on arrival at the API. */
function serveAuth({ refreshSucceeds = true } = {}) {
  const calls = { refresh: 0, logout: [] as unknown[], ordersAuth: [] as (string | null)[] };
  const fresh = fakeJwt(LATER(), "fresh");
  server.use(
    http.post(api("/api/auth/login"), () => {
      setSessionCookie("csrf-1");
      return HttpResponse.json({
        accessToken: fakeJwt(LATER(), "stale"),
        refreshToken: "refresh-1",
        tokenType: "Bearer",
        expiresIn: 900,
        user: ADMIN,
      });
    }),
    http.post(api("/api/auth/refresh"), async ({ request }) => {
      calls.refresh += 1;
      // The refresh token rides in its HttpOnly cookie; the request proves its origin with CSRF.
      const body = (await request.json()) as Record<string, unknown>;
      if (!refreshSucceeds || request.headers.get("X-CSRF-Token") !== "csrf-1" || "refreshToken" in body) {
        return HttpResponse.json({ error: { code: "invalid_token", message: "no", requestId: "r" } }, { status: 401 });
      }
      return HttpResponse.json({ accessToken: fresh, refreshToken: "refresh-2", expiresIn: 900 });
    }),
    http.post(api("/api/auth/logout"), async ({ request }) => {
      calls.logout.push({ body: await request.json(), csrf: request.headers.get("X-CSRF-Token") });
      return new HttpResponse(null, { status: 204 });
    }),
    http.get(api("/api/orders/stats"), ({ request }) => {
      const authorization = request.headers.get("Authorization");
      calls.ordersAuth.push(authorization);
      if (authorization !== `Bearer ${fresh}`) {
        return HttpResponse.json({ error: { code: "unauthorized", message: "expired", requestId: "r" } }, { status: 401 });
      }
      return HttpResponse.json({ totalOrders: 1, byChannel: {}, byStatus: {}, revenue: [] });
    }),
  );
  return calls;
}

async function signedIn() {
  const session = new Session({ baseUrl: ORIGIN });
  await session.signIn(ADMIN.email, "secret");
  return { session, client: createApi(session, ORIGIN) };
}

describe("session", () => {
  it("restores a session a reload finds in its cookie, without any token in script's storage", async () => {
    const calls = serveAuth();
    server.use(http.get(api("/api/auth/me"), () => HttpResponse.json({ user: ADMIN })));
    setSessionCookie("csrf-1"); // what an earlier page load's sign-in left behind
    const session = new Session({ baseUrl: ORIGIN });
    expect(session.getSnapshot().restoring).toBe(true);

    await session.restore();

    expect(calls.refresh).toBe(1);
    expect(session.user).toEqual(ADMIN);
    expect(session.getSnapshot().restoring).toBeFalsy();
  });

  it("is simply signed out on load without a session cookie", async () => {
    const calls = serveAuth();
    const session = new Session({ baseUrl: ORIGIN });

    await session.restore();

    expect(calls.refresh).toBe(0);
    expect(session.user).toBeNull();
  });

  it("refreshes once for concurrent 401s and retries each request with the new token", async () => {
    const calls = serveAuth();
    const { client } = await signedIn();

    const results = await Promise.all([
      unwrap(client.GET("/api/orders/stats")),
      unwrap(client.GET("/api/orders/stats")),
      unwrap(client.GET("/api/orders/stats")),
    ]);

    expect(results.map((stats) => stats.totalOrders)).toEqual([1, 1, 1]);
    expect(calls.refresh).toBe(1);
    // Three rejected with the old token, three accepted with the new one; no second retry.
    expect(calls.ordersAuth).toHaveLength(6);
  });

  it("signs out when the refresh token is refused, and the request fails as 401", async () => {
    serveAuth({ refreshSucceeds: false });
    const { session, client } = await signedIn();
    const seen: (string | null)[] = [];
    session.subscribe(() => seen.push(session.getSnapshot().signOutReason));

    await expect(unwrap(client.GET("/api/orders/stats"))).rejects.toMatchObject({ status: 401 });

    expect(session.user).toBeNull();
    expect(session.getSnapshot().signOutReason).toBe("expired");
    expect(seen).toEqual(["expired"]);
  });

  it("refreshes before sending when the access token has already expired", async () => {
    const calls = serveAuth();
    server.use(
      http.post(api("/api/auth/login"), () => {
        setSessionCookie("csrf-1");
        return HttpResponse.json({
          accessToken: fakeJwt(Date.now() - 1_000),
          refreshToken: "refresh-1",
          tokenType: "Bearer",
          expiresIn: 0,
          user: ADMIN,
        });
      }),
    );
    const { client } = await signedIn();

    await unwrap(client.GET("/api/orders/stats"));

    expect(calls.refresh).toBe(1);
    expect(calls.ordersAuth).toHaveLength(1);
  });

  it("refreshes quietly shortly before the access token expires", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    try {
      const calls = serveAuth();
      const { session } = await signedIn();
      expect(calls.refresh).toBe(0);

      await vi.advanceTimersByTimeAsync(900_000 - 30_000);
      await vi.waitFor(() => expect(calls.refresh).toBe(1));
      expect(session.user).toEqual(ADMIN);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps tokens out of web storage", async () => {
    serveAuth();
    await signedIn();
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
  });

  it("signs out on the server by its session cookie (with the CSRF header), and locally", async () => {
    const calls = serveAuth();
    const { session } = await signedIn();

    await session.signOut();

    expect(calls.logout).toEqual([{ body: {}, csrf: "csrf-1" }]);
    expect(session.user).toBeNull();
    expect(session.getSnapshot().signOutReason).toBe("signed_out");
  });
});
