import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import type { Order } from "../../lib/apiTypes";
import { ADMIN, makeOrder, makePage, orderEnvelope, STATS } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

const COLLEAGUE = { id: "u_priya", displayName: "Priya P" };

function serve(initial: Order) {
  let order = initial;
  const notes: { text: string; key: string | null }[] = [];
  server.use(
    http.get(api("/api/users/names"), () =>
      HttpResponse.json({ users: [{ id: ADMIN.id, displayName: ADMIN.displayName }, COLLEAGUE] }),
    ),
    http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
    http.get(api("/api/orders"), () => HttpResponse.json(makePage([order]))),
    http.get(api("/api/orders/:id"), () => HttpResponse.json(orderEnvelope(order))),
    http.get(api("/api/orders/:id/customer-orders"), () =>
      HttpResponse.json({ customer: order.customer, orders: [], total: 0 }),
    ),
    http.post(api("/api/orders/:id/notes"), async ({ request }) => {
      const { text } = (await request.json()) as { text: string };
      notes.push({ text, key: request.headers.get("Idempotency-Key") });
      await new Promise((resolve) => setTimeout(resolve, 50));
      order = {
        ...order,
        notes: [...(order.notes ?? []), { id: `n${notes.length}`, text, writtenAt: "2026-11-21T09:00:00Z", writtenBy: ADMIN.id }],
      };
      return HttpResponse.json(orderEnvelope(order), { status: 201 });
    }),
  );
  return {
    notes,
    cancelByColleague: () => {
      order = {
        ...order,
        status: "CANCELLED",
        statusHistory: [
          ...order.statusHistory,
          { status: "CANCELLED", changedAt: new Date().toISOString(), changedBy: COLLEAGUE.id, source: "admin", note: "customer called" },
        ],
      };
    },
  };
}

describe("the order drawer", () => {
  it("shows items and the total first, and names people by display name in history and notes", async () => {
    serve(
      makeOrder({
        status: "CONFIRMED",
        statusHistory: [
          { status: "PLACED", changedAt: "2026-11-20T10:00:00Z", changedBy: null, source: "channel", note: null },
          { status: "CONFIRMED", changedAt: "2026-11-20T11:00:00Z", changedBy: COLLEAGUE.id, changedByEmail: "priya@shop.in", source: "admin", note: null },
        ],
        notes: [{ id: "n1", text: "Gift wrap", writtenAt: "2026-11-20T12:00:00Z", writtenBy: COLLEAGUE.id }],
      }),
    );
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    const headings = within(dialog)
      .getAllByRole("heading", { level: 3 })
      .map((heading) => heading.textContent);
    expect(headings.indexOf("Items")).toBeLessThan(headings.indexOf("Tags"));
    expect(headings.indexOf("Items")).toBeLessThan(headings.indexOf("Notes"));
    expect(headings.indexOf("Items")).toBeLessThan(headings.indexOf("Customer"));
    const history = within(dialog).getByRole("list", { name: "Status history" });
    expect(await within(history).findByText(/by Priya P/)).toBeInTheDocument();
    const notes = within(dialog).getByRole("list", { name: "Notes" });
    expect(within(notes).getByText(/Priya P/)).toBeInTheDocument();
  });

  it("adds a note once on a double click, with an idempotency key", async () => {
    const backend = serve(makeOrder());
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    await userEvent.type(within(dialog).getByLabelText("Add a note"), "Call before delivery");
    await userEvent.dblClick(within(dialog).getByRole("button", { name: "Add note" }));
    const notes = within(dialog).getByRole("list", { name: "Notes" });
    expect(await within(notes).findByText("Call before delivery")).toBeInTheDocument();
    expect(backend.notes).toHaveLength(1);
    expect(backend.notes[0]?.key).toMatch(/.{8,}/);
    expect(within(notes).getByText(/You/)).toBeInTheDocument();
  });

  it("keeps a half-filled shipment and says what happened when a colleague cancelled the order", async () => {
    const backend = serve(makeOrder({ status: "CONFIRMED" }));
    server.use(
      http.patch(api("/api/orders/:id/status"), () =>
        HttpResponse.json(
          { error: { code: "invalid_transition", message: "Priya already cancelled this order", details: {} } },
          { status: 409 },
        ),
      ),
    );
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Mark shipped" }));
    await userEvent.type(within(dialog).getByLabelText("Carrier"), "Delhivery");
    await userEvent.type(within(dialog).getByLabelText("Tracking number"), "DL123");
    backend.cancelByColleague();
    await userEvent.click(within(dialog).getByRole("button", { name: "Confirm shipped" }));

    const notice = await within(dialog).findByRole("alert", { name: "Shipment not sent" });
    expect(notice).toHaveTextContent("Priya P cancelled this order");
    expect(notice).toHaveTextContent("customer called");
    expect(within(notice).getByLabelText("Carrier you typed")).toHaveValue("Delhivery");
    expect(within(notice).getByLabelText("Tracking number you typed")).toHaveValue("DL123");
    await userEvent.click(within(notice).getByRole("button", { name: "Dismiss" }));
    await waitFor(() => expect(within(dialog).queryByRole("alert", { name: "Shipment not sent" })).not.toBeInTheDocument());
  });
});
