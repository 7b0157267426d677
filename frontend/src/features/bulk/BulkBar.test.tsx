import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { ADMIN, makeOrder, makePage, STATS, VIEWER } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

const ORDERS = [
  makeOrder({ id: "ord_1", externalId: "WEB-1" }),
  makeOrder({ id: "ord_2", externalId: "WEB-2", status: "CANCELLED" }),
];

function serve(total = ORDERS.length) {
  const moves: unknown[] = [];
  server.use(
    http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
    http.get(api("/api/orders"), () => HttpResponse.json(makePage(ORDERS, 1, 20, total))),
    http.post(api("/api/bulk-moves"), async ({ request }) => {
      const body = (await request.json()) as { orderIds?: string[] };
      moves.push(body);
      if (body.orderIds) {
        return HttpResponse.json({
          result: {
            moved: ["ord_1"],
            refused: [{ orderId: "ord_2", code: "already_final", message: "an order in CANCELLED cannot move" }],
          },
        });
      }
      return HttpResponse.json({ job: { id: "job_1" } }, { status: 202 });
    }),
  );
  return moves;
}

describe("bulk moves from the orders table", () => {
  it("moves the picked orders and says which were refused and why", async () => {
    const moves = serve();
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1", {}, { timeout: 5000 });

    await userEvent.click(screen.getByRole("checkbox", { name: "Select every order on this page" }));
    const bar = screen.getByRole("region", { name: "Bulk actions" });
    expect(within(bar).getByText("2 selected")).toBeInTheDocument();
    await userEvent.selectOptions(within(bar).getByLabelText("Move to"), "SHIPPED");
    await userEvent.click(within(bar).getByRole("button", { name: "Move 2 orders" }));

    expect(await within(bar).findByText("1 moved, 1 refused.")).toBeInTheDocument();
    expect(within(bar).getByText("ord_2: already final")).toBeInTheDocument();
    expect(moves).toEqual([{ status: "SHIPPED", orderIds: ["ord_1", "ord_2"] }]);
  }, 20_000);

  it("offers every order matching the view once the whole page is picked, as a job", async () => {
    const moves = serve(240);
    server.use(
      http.get(api("/api/jobs/job_1"), () =>
        HttpResponse.json({
          job: {
            id: "job_1",
            kind: "status_move",
            state: "running",
            total: 240,
            processed: 60,
            moved: 50,
            refused: 10,
            cancelRequested: false,
            error: null,
          },
        }),
      ),
    );
    await renderApp("/orders?channel=amazon&sortBy=total", ADMIN);
    await screen.findByText("WEB-1", {}, { timeout: 5000 });
    await userEvent.click(screen.getByRole("checkbox", { name: "Select every order on this page" }));
    await userEvent.click(screen.getByRole("button", { name: "Select all 240 matching this view" }));
    await userEvent.click(screen.getByRole("button", { name: "Move 240 orders" }));

    expect(moves).toEqual([
      { status: "CONFIRMED", view: { channel: ["amazon"], sortBy: "total", sortOrder: "desc" } },
    ]);
    const progress = await screen.findByRole("status", { name: "Bulk move" });
    expect(await within(progress).findByText(/60 of 240 · 50 moved, 10 refused/)).toBeInTheDocument();
    expect(within(progress).getByRole("button", { name: "Cancel" })).toBeInTheDocument();
  }, 20_000);

  it("shows viewers no way to move orders", async () => {
    serve();
    await renderApp("/orders", VIEWER);
    await screen.findByText("WEB-1", {}, { timeout: 5000 });
    expect(screen.queryByRole("checkbox")).not.toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Bulk actions" })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Export CSV" })).toBeInTheDocument();
  }, 20_000);
});
