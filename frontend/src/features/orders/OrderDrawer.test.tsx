import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import type { Order, OrderStatus } from "../../lib/apiTypes";
import { ADMIN, makeOrder, orderEnvelope, makePage, STATS, VIEWER } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

/** A tiny orders backend holding one order, applying status moves as the server would. */
function serveOneOrder(initial: Order) {
  let order = initial;
  const moves: { status: OrderStatus; note?: string | null; shipment?: unknown }[] = [];
  server.use(
    http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
    http.get(api("/api/orders"), () => HttpResponse.json(makePage([order]))),
    http.get(api("/api/orders/:id"), () => HttpResponse.json(orderEnvelope(order))),
    http.get(api("/api/orders/:id/customer-orders"), () =>
      HttpResponse.json({ customer: order.customer, orders: [], total: 0 }),
    ),
    http.patch(api("/api/orders/:id/status"), async ({ request }) => {
      const move = (await request.json()) as {
        status: OrderStatus;
        note?: string;
        shipment?: { carrier: string; trackingNumber: string };
      };
      moves.push(move);
      const changedAt = "2026-11-21T09:30:00Z";
      order = {
        ...order,
        status: move.status,
        updatedAt: changedAt,
        shipment: move.shipment ?? order.shipment,
        statusHistory: [
          ...order.statusHistory,
          { status: move.status, changedAt, changedBy: ADMIN.id, source: "admin", note: move.note ?? null },
        ],
      };
      return HttpResponse.json(orderEnvelope(order));
    }),
  );
  return moves;
}

const history = () => within(screen.getByRole("list", { name: "Status history" })).getAllByRole("listitem");

describe("order detail", () => {
  it("offers an admin the allowed next statuses, and a move grows the history", async () => {
    const moves = serveOneOrder(makeOrder({ status: "PLACED" }));
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });

    expect(within(dialog).getByRole("button", { name: "Mark confirmed" })).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Cancel order…" })).toBeInTheDocument();
    expect(within(dialog).queryByRole("button", { name: "Mark shipped" })).not.toBeInTheDocument();
    expect(history()).toHaveLength(1);

    await userEvent.type(within(dialog).getByLabelText("Note (optional)"), "Paid by bank transfer");
    await userEvent.click(within(dialog).getByRole("button", { name: "Mark confirmed" }));

    await waitFor(() => expect(history()).toHaveLength(2));
    expect(moves).toEqual([{ status: "CONFIRMED", note: "Paid by bank transfer" }]);
    expect(history()[1]).toHaveTextContent("Confirmed");
    expect(history()[1]).toHaveTextContent("Paid by bank transfer");
    expect(history()[1]).toHaveTextContent("by you");
    expect(history()[0]).toHaveTextContent("from the channel");
    // Keyboard focus stays in the drawer, on the outcome, though the pressed button is gone.
    await waitFor(() => expect(within(dialog).getByRole("status")).toHaveTextContent("Moved to Confirmed."));
    expect(dialog).toContainElement(document.activeElement as HTMLElement);
    expect(document.activeElement).toHaveTextContent("Moved to Confirmed.");
    // From CONFIRMED the next moves are different ones.
    expect(await within(dialog).findByRole("button", { name: "Mark shipped" })).toBeInTheDocument();
    expect(within(dialog).queryByRole("button", { name: "Mark confirmed" })).not.toBeInTheDocument();
  });

  it("shows a viewer the order with no action at all", async () => {
    serveOneOrder(makeOrder({ status: "PLACED" }));
    await renderApp("/orders/ord_1", VIEWER);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });

    expect(within(dialog).getByText("Asha Rao")).toBeInTheDocument();
    expect(within(dialog).getAllByRole("button").map((button) => button.textContent)).toEqual(["×"]);
    expect(within(dialog).queryByLabelText("Note (optional)")).not.toBeInTheDocument();
  });

  it("offers nothing on a final status", async () => {
    serveOneOrder(makeOrder({ status: "RETURNED" }));
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    expect(within(dialog).getByText(/is final/)).toBeInTheDocument();
    expect(within(dialog).queryByRole("button", { name: /^Mark |Cancel order/ })).not.toBeInTheDocument();
  });

  it("offers the moves the server allows, not a table of its own", async () => {
    const order = makeOrder({ status: "PLACED" });
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), () => HttpResponse.json(makePage([order]))),
      // A server whose state machine lets a placed order only be cancelled.
      http.get(api("/api/orders/:id"), () => HttpResponse.json(orderEnvelope(order, ["CANCELLED"]))),
      http.get(api("/api/orders/:id/customer-orders"), () =>
        HttpResponse.json({ customer: order.customer, orders: [], total: 0 }),
      ),
    );
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    expect(within(dialog).getAllByRole("button", { name: /^Mark |Cancel order/ }).map((b) => b.textContent)).toEqual([
      "Cancel order…",
    ]);
  });

  it("offers a delivered order the return, and nothing else", async () => {
    serveOneOrder(makeOrder({ status: "DELIVERED" }));
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    expect(within(dialog).getAllByRole("button", { name: /^Mark |Cancel order/ }).map((b) => b.textContent)).toEqual([
      "Mark returned (final)",
    ]);
  });

  it("asks for carrier and tracking number when marking shipped", async () => {
    const moves = serveOneOrder(makeOrder({ status: "CONFIRMED" }));
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Mark shipped" }));
    expect(moves).toEqual([]);
    const confirm = within(dialog).getByRole("button", { name: "Confirm shipped" });
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText("Carrier"), "Blue Dart");
    await userEvent.type(within(dialog).getByLabelText("Tracking number"), "BD123");
    await userEvent.click(confirm);
    await waitFor(() =>
      expect(moves).toEqual([{ status: "SHIPPED", shipment: { carrier: "Blue Dart", trackingNumber: "BD123" } }]),
    );
    expect(await within(dialog).findByTestId("shipment")).toHaveTextContent("Blue Dart · BD123");
  });

  it("explains a refused move (409) by who got there first, by email", async () => {
    serveOneOrder(makeOrder({ status: "PLACED" }));
    const changedAt = new Date(Date.now() - 2 * 60_000).toISOString();
    server.use(
      http.patch(api("/api/orders/:id/status"), () =>
        HttpResponse.json(
          {
            error: {
              code: "invalid_transition",
              message: "bob@orderhub.test already confirmed this order",
              requestId: "r9",
              details: {
                from: "CONFIRMED",
                to: "CONFIRMED",
                allowed: ["CANCELLED", "SHIPPED"],
                lastChange: { status: "CONFIRMED", changedAt, changedBy: "u_bob", changedByEmail: "bob@orderhub.test", source: "admin", note: null },
              },
            },
          },
          { status: 409 },
        ),
      ),
    );
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Mark confirmed" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("Someone else (bob@orderhub.test) already confirmed this order 2 minutes ago. It has been reloaded.");
    expect(alert).not.toHaveTextContent("CONFIRMED");
  });

  it("asks to confirm a cancel and requires a reason, kept as the history note", async () => {
    const moves = serveOneOrder(makeOrder({ status: "CONFIRMED" }));
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });

    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel order…" }));
    expect(within(dialog).getByText(/Cancelling is final/)).toBeInTheDocument();
    const reason = within(dialog).getByLabelText(/^Reason/);
    expect(reason).toHaveFocus();
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel the order" }));
    expect(within(dialog).getByText("Give a reason for cancelling.")).toBeInTheDocument();
    expect(moves).toEqual([]);

    await userEvent.click(within(dialog).getByRole("button", { name: "Keep the order" }));
    expect(within(dialog).queryByLabelText(/^Reason/)).not.toBeInTheDocument();
    expect(moves).toEqual([]);

    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel order…" }));
    await userEvent.type(within(dialog).getByLabelText(/^Reason/), "Customer changed their mind");
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel the order" }));
    await waitFor(() => expect(moves).toEqual([{ status: "CANCELLED", note: "Customer changed their mind" }]));
    expect(await within(dialog).findByText(/Cancelled is final: this order cannot be moved again/)).toBeInTheDocument();
    expect(history()[1]).toHaveTextContent("Customer changed their mind");
  });

  it("puts the note before the move buttons, and names other admins in the history by email", async () => {
    serveOneOrder(
      makeOrder({
        status: "CONFIRMED",
        statusHistory: [
          { status: "PLACED", changedAt: "2026-11-20T10:00:00Z", changedBy: null, source: "channel", note: null },
          { status: "CONFIRMED", changedAt: "2026-11-20T11:00:00Z", changedBy: "u_bob", changedByEmail: "bob@orderhub.test", source: "admin", note: null },
        ],
      }),
    );
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    expect(history()[1]).toHaveTextContent("by bob@orderhub.test");
    const note = within(dialog).getByLabelText("Note (optional)");
    const ship = within(dialog).getByRole("button", { name: "Mark shipped" });
    expect(note.compareDocumentPosition(ship) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it("closes on Escape, keeping the table's filters, and traps Tab inside", async () => {
    serveOneOrder(makeOrder());
    const app = await renderApp("/orders/ord_1?status=PLACED", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });

    for (let step = 0; step < 8; step += 1) {
      await userEvent.tab();
      expect(dialog).toContainElement(document.activeElement as HTMLElement);
    }

    await userEvent.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(app.location().pathname).toBe("/orders");
    expect(app.search().get("status")).toBe("PLACED");
  });

  it("opens from the table with the keyboard", async () => {
    serveOneOrder(makeOrder());
    server.use(
      http.get(api("/api/orders"), () =>
        HttpResponse.json(makePage([makeOrder({ id: "ord_0", externalId: "WEB-1000" }), makeOrder()])),
      ),
    );
    const app = await renderApp("/orders?channel=website", ADMIN);
    (await screen.findByRole("link", { name: "WEB-1000" })).focus();
    await userEvent.keyboard("{ArrowDown}");
    expect(screen.getByRole("link", { name: "WEB-1001" })).toHaveFocus();
    await userEvent.keyboard("{Enter}");
    expect(await screen.findByRole("dialog", { name: "Order WEB-1001" })).toBeInTheDocument();
    expect(app.location().pathname).toBe("/orders/ord_1");
    expect(app.search().get("channel")).toBe("website");
  });
});
