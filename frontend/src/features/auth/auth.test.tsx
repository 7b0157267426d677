import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { ADMIN, fakeJwt, makeOrder, makePage, STATS, VIEWER } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

function serveOrders() {
  server.use(
    http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
    http.get(api("/api/orders"), () => HttpResponse.json(makePage([makeOrder()]))),
  );
}

describe("sign-in and sign-out", () => {
  it("sends a signed-out visitor to sign in, then back where they were going", async () => {
    serveOrders();
    server.use(
      http.post(api("/api/auth/login"), async ({ request }) => {
        const { email, password } = (await request.json()) as { email: string; password: string };
        if (password !== "right") {
          return HttpResponse.json({ error: { code: "invalid_credentials", message: "x", requestId: "r" } }, { status: 401 });
        }
        return HttpResponse.json({
          accessToken: fakeJwt(Date.now() + 900_000),
          refreshToken: "r1",
          tokenType: "Bearer",
          expiresIn: 900,
          user: { ...VIEWER, email },
        });
      }),
    );
    const app = await renderApp("/orders?status=PLACED", null);
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText("Email"), VIEWER.email);
    await userEvent.type(screen.getByLabelText("Password"), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("do not match");
    // Focus stays where the fix is typed, not on the page body.
    await waitFor(() => expect(screen.getByLabelText("Password")).toHaveFocus());

    await userEvent.clear(screen.getByLabelText("Password"));
    await userEvent.type(screen.getByLabelText("Password"), "right");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("heading", { name: "Orders" })).toBeInTheDocument();
    expect(app.location().pathname).toBe("/orders");
    expect(app.search().get("status")).toBe("PLACED");
    expect(screen.getByText(VIEWER.email)).toBeInTheDocument();
    expect(screen.getByText("viewer")).toBeInTheDocument();
  });

  it("signs out through the API and returns to the sign-in page", async () => {
    serveOrders();
    const logouts: unknown[] = [];
    server.use(
      http.post(api("/api/auth/logout"), ({ request }) => {
        logouts.push(request.headers.get("X-CSRF-Token"));
        return new HttpResponse(null, { status: 204 });
      }),
    );
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");

    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));

    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
    expect(logouts).toEqual(["csrf-1"]);
  });

  it("returns to sign-in with a notice when the session cannot be renewed", async () => {
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), () =>
        HttpResponse.json({ error: { code: "unauthorized", message: "expired", requestId: "r" } }, { status: 401 }),
      ),
      http.post(api("/api/auth/refresh"), () =>
        HttpResponse.json({ error: { code: "invalid_token", message: "revoked", requestId: "r" } }, { status: 401 }),
      ),
    );
    const app = await renderApp("/orders", ADMIN);

    expect(await screen.findByText("Your session ended. Please sign in again.")).toBeInTheDocument();
    await waitFor(() => expect(app.location().pathname).toBe("/login"));
  });
});
