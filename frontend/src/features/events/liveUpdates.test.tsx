import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import type { Order } from "../../lib/apiTypes";
import { ADMIN, makeOrder, makePage, orderEnvelope, STATS } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

/** The gateway's message announcing one order event (`orders.changed`, one change). */
function changedMessage(event: { eventType: string; order?: { id: string; status?: string; [field: string]: unknown }; orderId?: string; status?: string }, id: number) {
  const created = event.eventType === "order.created";
  const change = {
    orderId: created ? event.order!.id : event.orderId!,
    kind: created ? "created" : "changed",
    eventType: event.eventType,
    status: (created ? event.order!.status : event.status) ?? null,
  };
  return `id: e-${id}\nevent: orders.changed\ndata: ${JSON.stringify({ changes: [change] })}\n\n`;
}

/** An event stream the test writes to, as the gateway would. */
function controllableEventStream() {
  const encoder = new TextEncoder();
  let push: ((text: string) => void) | null = null;
  const authorizations: (string | null)[] = [];
  server.use(
    http.get(api("/api/events"), ({ request }) => {
      authorizations.push(request.headers.get("Authorization"));
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          push = (text) => controller.enqueue(encoder.encode(text));
          request.signal.addEventListener("abort", () => controller.close());
        },
      });
      return new HttpResponse(stream, { headers: { "Content-Type": "text/event-stream" } });
    }),
  );
  let sent = 0;
  return {
    authorizations,
    connected: () => push !== null,
    send: (event: Parameters<typeof changedMessage>[0]) => push!(changedMessage(event, ++sent)),
    /** Writes raw event-stream text (a reset, a message of many changes). */
    write: (text: string) => push!(text),
  };
}

/** The server's answer to "which of these orders does the view's list hold": here, those of
 * `listed()` (the list the test serves); every question's query is kept. */
function serveMatching(listed: () => Order[]) {
  const questions: URLSearchParams[] = [];
  server.use(
    http.get(api("/api/orders/matching"), ({ request }) => {
      const query = new URL(request.url).searchParams;
      questions.push(query);
      const held = new Set(listed().map((order) => order.id));
      return HttpResponse.json({ ids: query.getAll("ids").filter((id) => held.has(id)) });
    }),
  );
  return questions;
}

describe("live updates", () => {
  it("announces new orders quietly and shows them when asked", async () => {
    let orders: Order[] = [makeOrder()];
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), () => HttpResponse.json(makePage(orders))),
    );
    serveMatching(() => orders);
    const events = controllableEventStream();
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    await waitFor(() => expect(events.connected()).toBe(true));
    expect(events.authorizations[0]).toMatch(/^Bearer /);

    const fresh = makeOrder({ id: "ord_2", externalId: "WEB-1002" });
    orders = [fresh, ...orders];
    events.send({ eventType: "order.created", order: fresh });
    events.send({ eventType: "order.status_changed", orderId: "ord_1", status: "CONFIRMED" });

    const notice = await screen.findByRole("button", { name: /1 new order, 1 updated order/ });
    // The table does not move by itself.
    expect(screen.queryByText("WEB-1002")).not.toBeInTheDocument();

    await userEvent.click(notice);
    expect(await screen.findByText("WEB-1002")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole("button", { name: /new order/ })).not.toBeInTheDocument());
  });

  it("refreshes an open order when it changes", async () => {
    let order = makeOrder();
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), () => HttpResponse.json(makePage([order]))),
      http.get(api("/api/orders/:id"), () => HttpResponse.json(orderEnvelope(order))),
      http.get(api("/api/orders/:id/customer-orders"), () =>
        HttpResponse.json({ customer: order.customer, orders: [], total: 0 }),
      ),
    );
    const events = controllableEventStream();
    await renderApp("/orders/ord_1", ADMIN);
    const dialog = await screen.findByRole("dialog", { name: "Order WEB-1001" });
    await waitFor(() => expect(events.connected()).toBe(true));

    order = {
      ...order,
      status: "CONFIRMED",
      statusHistory: [
        ...order.statusHistory,
        { status: "CONFIRMED", changedAt: "2026-11-21T08:00:00Z", changedBy: null, source: "channel", note: null },
      ],
    };
    events.send({ eventType: "order.status_changed", orderId: "ord_1", status: "CONFIRMED" });

    const history = within(dialog).getByRole("list", { name: "Status history" });
    await waitFor(() => expect(within(history).getAllByRole("listitem")).toHaveLength(2));
    expect(within(dialog).getByRole("button", { name: "Mark shipped" })).toBeInTheDocument();
  });
});

describe("live updates on a filtered view", () => {
  it("announces only orders the view would show, and highlights them once shown", async () => {
    let orders: Order[] = [makeOrder()];
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), () => HttpResponse.json(makePage(orders))),
    );
    serveMatching(() => orders);
    const events = controllableEventStream();
    await renderApp("/orders?channel=website", ADMIN);
    await screen.findByText("WEB-1001");
    await waitFor(() => expect(events.connected()).toBe(true));

    const amazon = makeOrder({ id: "ord_a", externalId: "AMZ-1", channel: "amazon" });
    const website = makeOrder({ id: "ord_w", externalId: "WEB-2001" });
    events.send({ eventType: "order.created", order: amazon });
    events.send({ eventType: "order.created", order: { ...amazon, id: "ord_b", externalId: "AMZ-2" } });
    events.send({ eventType: "order.created", order: website });
    // A change of an order that is not on screen does not concern this view either.
    events.send({ eventType: "order.status_changed", orderId: "ord_elsewhere", status: "SHIPPED" });
    orders = [website, ...orders];

    const notice = await screen.findByRole("button", { name: /new order/ });
    expect(notice).toHaveTextContent(/^1 new order · Show$/);
    await userEvent.click(notice);
    const row = (await screen.findByText("WEB-2001")).closest("tr")!;
    expect(row).toHaveClass("is-new");
    expect(screen.getByText("WEB-1001").closest("tr")).not.toHaveClass("is-new");
  });

  it("asks the server whether a new order is in a tag view, rather than matching it itself", async () => {
    const tagged = makeOrder({ id: "ord_t", externalId: "WEB-3001", tags: ["gift"] });
    const untagged = makeOrder({ id: "ord_u", externalId: "WEB-3002", tags: [] });
    let orders: Order[] = [makeOrder({ tags: ["gift"] })];
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), () => HttpResponse.json(makePage(orders))),
    );
    const questions = serveMatching(() => orders);
    const events = controllableEventStream();
    await renderApp("/orders?tag=gift", ADMIN);
    await screen.findByText("WEB-1001");
    await waitFor(() => expect(events.connected()).toBe(true));

    // Both match every filter the SPA used to check itself; only the tagged one is in the list.
    orders = [tagged, ...orders];
    events.send({ eventType: "order.created", order: untagged });
    events.send({ eventType: "order.created", order: tagged });

    const notice = await screen.findByRole("button", { name: /new order/ });
    expect(notice).toHaveTextContent(/^1 new order · Show$/);
    expect(questions.length).toBeGreaterThan(0);
    for (const question of questions) expect(question.getAll("tag")).toEqual(["gift"]);
    expect(new Set(questions.flatMap((question) => question.getAll("ids")))).toEqual(new Set(["ord_u", "ord_t"]));
  });

  it("announces no new order the server says is outside the view", async () => {
    const orders: Order[] = [makeOrder()];
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), () => HttpResponse.json(makePage(orders))),
    );
    serveMatching(() => orders); // the list never holds the new order
    const events = controllableEventStream();
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    await waitFor(() => expect(events.connected()).toBe(true));
    events.send({ eventType: "order.created", order: makeOrder({ id: "ord_x", externalId: "WEB-4001" }) });
    events.send({ eventType: "order.status_changed", orderId: "ord_1", status: "CONFIRMED" });
    const notice = await screen.findByRole("button", { name: /updated order/ });
    expect(notice).toHaveTextContent(/^1 updated order · Show$/);
  });
});

describe("a calm tab", () => {
  it("refetches the counts at most once per interval however many changes arrive, aborting none", async () => {
    const statsCalls: { aborted: () => boolean }[] = [];
    server.use(
      http.get(api("/api/orders/stats"), async ({ request }) => {
        statsCalls.push({ aborted: () => request.signal.aborted });
        await new Promise((resolve) => setTimeout(resolve, 50));
        return HttpResponse.json(STATS);
      }),
      http.get(api("/api/orders"), () => HttpResponse.json(makePage([makeOrder()]))),
    );
    const events = controllableEventStream();
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    await waitFor(() => expect(events.connected()).toBe(true));
    await waitFor(() => expect(statsCalls.length).toBeGreaterThan(0));
    const before = statsCalls.length;

    for (let n = 0; n < 30; n += 1) {
      events.send({ eventType: "order.status_changed", orderId: `ord_${n}`, status: "SHIPPED" });
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));

    // 30 changes over 1.2 s: one refetch now, the next one LIVE_REFRESH_MS later at the earliest.
    expect(statsCalls.length - before).toBe(1);
    expect(statsCalls.filter((call) => call.aborted())).toEqual([]);
  });

  it("refetches the list once on a reset", async () => {
    let listCalls = 0;
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), () => {
        listCalls += 1;
        return HttpResponse.json(makePage([makeOrder()]));
      }),
    );
    const events = controllableEventStream();
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    await waitFor(() => expect(events.connected()).toBe(true));
    const before = listCalls;

    events.write('id: g-9\nevent: reset\ndata: {"reason":"this client fell too far behind"}\n\n');

    await waitFor(() => expect(listCalls).toBe(before + 1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(listCalls).toBe(before + 1);
  });
});
