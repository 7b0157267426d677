import { screen, waitFor, within } from "@testing-library/react";
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
  actorEmail: "admin@orderhub.test",
  target: "ord_1",
  targetExternalId: "WEB-1001",
  targetChannel: "website",
  clientAddress: "10.1.2.3",
  requestId: "req-1",
  details: { from: "PLACED", to: "CONFIRMED", bulkMove: "job_abc123" },
};

function serveLog() {
  const queries: URLSearchParams[] = [];
  server.use(
    http.get(api("/api/audit/actions"), () =>
      HttpResponse.json({ actions: ["bulk_move.started", "order.status_moved", "view.saved"] }),
    ),
    http.get(api("/api/audit"), ({ request }) => {
      queries.push(new URL(request.url).searchParams);
      return HttpResponse.json({ records: [RECORD], pagination: { page: 1, limit: 50, total: 1, totalPages: 1 } });
    }),
  );
  return queries;
}

describe("the audit page", () => {
  it("shows who by name, the order by its external id and the change from → to", async () => {
    serveLog();
    await renderApp("/audit", ADMIN);
    const row = (await screen.findByRole("cell", { name: "order.status_moved" })).closest("tr")!;
    expect(within(row).getByRole("cell", { name: "Asha Admin" })).toBeInTheDocument();
    expect(within(row).getByRole("link", { name: "WEB-1001" })).toHaveAttribute("href", "/orders/ord_1");
    expect(within(row).getByText(/Placed → Confirmed/)).toBeInTheDocument();
    expect(within(row).getByRole("cell", { name: "10.1.2.3" })).toBeInTheDocument();
    expect(within(row).getByRole("cell", { name: "req-1" })).toBeInTheDocument();
  }, 20_000);

  it("filters by an action from the server's list, and by email and target as you type", async () => {
    const queries = serveLog();
    const app = await renderApp("/audit", ADMIN);
    await screen.findByRole("cell", { name: "order.status_moved" });
    const action = screen.getByLabelText("Action");
    await waitFor(() => expect(within(action).getByRole("option", { name: "bulk_move.started" })).toBeInTheDocument());
    await userEvent.selectOptions(action, "bulk_move.started");
    expect(app.router.state.location.search).toBe("?action=bulk_move.started");
    await userEvent.type(screen.getByLabelText("Who (email)"), "asha@");
    // No Enter, no blur: the filter applies once typing pauses.
    await waitFor(() => expect(queries[queries.length - 1]!.get("actor")).toBe("asha@"));
    await userEvent.type(screen.getByLabelText("Target"), "WEB-1001");
    await waitFor(() => expect(queries[queries.length - 1]!.get("target")).toBe("WEB-1001"));
    expect(queries[queries.length - 1]!.get("action")).toBe("bulk_move.started");
    // A bulk move's own rows, from the row of an order it moved.
    await userEvent.click(screen.getByRole("button", { name: "part of bulk move" }));
    await waitFor(() => expect(queries[queries.length - 1]!.get("target")).toBe("job_abc123"));
  }, 20_000);
});
