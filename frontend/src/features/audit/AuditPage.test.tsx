import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { ADMIN } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

const RECORD = {
  eventId: "e1",
  occurredAt: "2026-11-20T10:00:00Z",
  recordedAt: "2026-11-20T10:00:01Z",
  service: "orders",
  action: "order.status_moved",
  outcome: "succeeded",
  actorId: "u_admin",
  actorEmail: null,
  target: "ord_1",
  clientAddress: "10.1.2.3",
  requestId: "req-1",
  details: {},
};

describe("the audit page", () => {
  it("lists who did what from where, and filters by action in the URL", async () => {
    const queries: URLSearchParams[] = [];
    server.use(
      http.get(api("/api/audit"), ({ request }) => {
        queries.push(new URL(request.url).searchParams);
        return HttpResponse.json({ records: [RECORD], pagination: { page: 1, limit: 50, total: 1, totalPages: 1 } });
      }),
    );
    const app = await renderApp("/audit", ADMIN);

    expect(await screen.findByRole("cell", { name: "order.status_moved" })).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "10.1.2.3" })).toBeInTheDocument();
    expect(screen.getByRole("cell", { name: "req-1" })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Action"), "view.saved{Enter}");
    expect(app.router.state.location.search).toBe("?action=view.saved");
    expect(queries[queries.length - 1]!.get("action")).toBe("view.saved");
  }, 20_000);
});
