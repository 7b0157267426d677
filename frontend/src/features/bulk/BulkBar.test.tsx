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
            refused: [
              {
                orderId: "ord_2",
                externalId: "WEB-2",
                channel: "website",
                customer: "Asha Rao",
                code: "already_final",
                message: "the channel already cancelled this order",
              },
            ],
          },
        });
      }
      return HttpResponse.json({ job: { id: "job_1" } }, { status: 202 });
    }),
  );
  return moves;
}

describe("bulk moves from the orders table", () => {
  it("ships the picked orders with a carrier and a tracking number each, checked first, after a confirmation", async () => {
    const moves = serve();
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1", {}, { timeout: 5000 });

    await userEvent.click(screen.getByRole("checkbox", { name: "Select every order on this page" }));
    const bar = screen.getByRole("region", { name: "Bulk actions" });
    expect(within(bar).getByText("2 selected")).toBeInTheDocument();
    await userEvent.selectOptions(within(bar).getByLabelText("Move to"), "SHIPPED");
    await userEvent.click(within(bar).getByRole("button", { name: "Move 2 orders…" }));
    await userEvent.type(within(bar).getByLabelText("Carrier (for all)"), "Delhivery");
    // Pasted as two columns; one order is missing: named before anything is sent.
    await userEvent.type(within(bar).getByLabelText(/Tracking numbers/), "WEB-1\tDL-1");
    await userEvent.click(within(bar).getByRole("button", { name: "Review the move of 2 orders" }));
    expect(within(bar).getByRole("alert", { name: "What is missing" })).toHaveTextContent(
      "No tracking number for 1 of them: WEB-2.",
    );
    expect(moves).toEqual([]);
    // By order id works as well as by external id.
    await userEvent.type(within(bar).getByLabelText(/Tracking numbers/), "{Enter}ord_2, DL-2");
    await userEvent.click(within(bar).getByRole("button", { name: "Review the move of 2 orders" }));
    const confirm = within(bar).getByRole("group", { name: "Confirm the bulk move" });
    expect(confirm).toHaveTextContent("Move 2 orders to Shipped with Delhivery?");
    expect(moves).toEqual([]);
    await userEvent.click(within(confirm).getByRole("button", { name: "Yes, move 2 orders" }));

    expect(await within(bar).findByText("1 moved, 1 refused.")).toBeInTheDocument();
    expect(moves).toEqual([
      {
        status: "SHIPPED",
        orderIds: ["ord_1", "ord_2"],
        shipment: { carrier: "Delhivery", trackingNumbers: { "WEB-1": "DL-1", ord_2: "DL-2" } },
      },
    ]);
    // The refused order as an admin knows it, with the server's reason, linked to its drawer.
    const refused = within(bar).getByRole("table", { name: "Refused orders" });
    expect(within(refused).getByRole("link", { name: "WEB-2" })).toHaveAttribute("href", "/orders/ord_2");
    expect(within(refused).getByText("Asha Rao")).toBeInTheDocument();
    expect(within(refused).getByText("the channel already cancelled this order")).toBeInTheDocument();
    expect(within(bar).getByRole("button", { name: "Download refused as CSV" })).toBeInTheDocument();
  }, 20_000);

  it("asks a reason to cancel, and says cancelling cannot be undone", async () => {
    const moves = serve();
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1", {}, { timeout: 5000 });
    await userEvent.click(screen.getByRole("checkbox", { name: "Select every order on this page" }));
    const bar = screen.getByRole("region", { name: "Bulk actions" });
    await userEvent.selectOptions(within(bar).getByLabelText("Move to"), "CANCELLED");
    await userEvent.click(within(bar).getByRole("button", { name: "Move 2 orders…" }));
    await userEvent.click(within(bar).getByRole("button", { name: "Review the move of 2 orders" }));
    expect(within(bar).getByRole("alert", { name: "What is missing" })).toHaveTextContent("Give a reason for cancelling");
    await userEvent.type(within(bar).getByLabelText(/Reason \(required/), "Duplicate orders");
    await userEvent.click(within(bar).getByRole("button", { name: "Review the move of 2 orders" }));
    const confirm = within(bar).getByRole("group", { name: "Confirm the bulk move" });
    expect(confirm).toHaveTextContent("Cancelled is final");
    expect(confirm).toHaveTextContent("This cannot be undone.");
    await userEvent.click(within(confirm).getByRole("button", { name: "Yes, move 2 orders" }));
    await within(bar).findByText("1 moved, 1 refused.");
    expect(moves).toEqual([{ status: "CANCELLED", orderIds: ["ord_1", "ord_2"], note: "Duplicate orders" }]);
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
    await userEvent.click(screen.getByRole("button", { name: "Move 240 orders…" }));
    await userEvent.click(screen.getByRole("button", { name: "Review the move of 240 orders" }));
    await userEvent.click(screen.getByRole("button", { name: "Yes, move 240 orders" }));

    expect(moves).toEqual([
      { status: "CONFIRMED", view: { channel: ["amazon"], sortBy: "total", sortOrder: "desc" } },
    ]);
    const progress = await screen.findByRole("status", { name: "Bulk move" });
    expect(await within(progress).findByText(/60 of 240 · 50 moved, 10 refused/)).toBeInTheDocument();
    expect(within(progress).getByRole("button", { name: "Cancel" })).toBeInTheDocument();
  }, 20_000);

  it("lists which orders a finished whole-view job refused, not only how many", async () => {
    serve(240);
    server.use(
      http.get(api("/api/jobs/job_1"), () =>
        HttpResponse.json({
          job: { id: "job_1", kind: "status_move", state: "succeeded", total: 240, processed: 240, moved: 239, refused: 1, cancelRequested: false, error: null },
        }),
      ),
      http.get(api("/api/jobs/job_1/items"), ({ request }) => {
        expect(new URL(request.url).searchParams.get("outcome")).toBe("refused");
        return HttpResponse.json({
          items: [
            { position: 7, orderId: "ord_9", externalId: "AMZ-9", channel: "amazon", customer: "Ravi K", outcome: "refused", code: "invalid_transition", message: "Priya already shipped this order", fromStatus: "SHIPPED" },
          ],
          pagination: { page: 1, limit: 1000, total: 1, totalPages: 1 },
        });
      }),
    );
    await renderApp("/orders?channel=amazon", ADMIN);
    await screen.findByText("WEB-1", {}, { timeout: 5000 });
    await userEvent.click(screen.getByRole("checkbox", { name: "Select every order on this page" }));
    await userEvent.click(screen.getByRole("button", { name: "Select all 240 matching this view" }));
    await userEvent.click(screen.getByRole("button", { name: "Move 240 orders…" }));
    await userEvent.click(screen.getByRole("button", { name: "Review the move of 240 orders" }));
    await userEvent.click(screen.getByRole("button", { name: "Yes, move 240 orders" }));
    const refused = await screen.findByRole("table", { name: "Refused orders" });
    expect(within(refused).getByRole("link", { name: "AMZ-9" })).toHaveAttribute("href", "/orders/ord_9?channel=amazon");
    expect(within(refused).getByText("Priya already shipped this order")).toBeInTheDocument();
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
