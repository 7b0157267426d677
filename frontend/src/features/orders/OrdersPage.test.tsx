import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { ADMIN, makeOrder, makePage, STATS } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

/** Serves the order list and records the query of every list request. */
function serveOrders(respond: (url: URL) => Response = () => HttpResponse.json(makePage([makeOrder()]))) {
  const requests: URLSearchParams[] = [];
  server.use(
    http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
    http.get(api("/api/orders"), ({ request }) => {
      const url = new URL(request.url);
      requests.push(url.searchParams);
      return respond(url);
    }),
  );
  return { requests, last: () => requests[requests.length - 1]! };
}

const statusFilter = (name: string) => within(screen.getByRole("group", { name: "Status" })).getByRole("button", { name });
const channelFilter = (name: string) => within(screen.getByRole("group", { name: "Channel" })).getByRole("button", { name });

describe("orders table", () => {
  it("restores every filter from the URL and sends them to the API", async () => {
    const orders = serveOrders();
    await renderApp(
      "/orders?channel=amazon&channel=blinkit&status=SHIPPED&search=asha&from=2026-11-01&to=2026-11-20&sortBy=total&sortOrder=asc&page=2&limit=50",
      ADMIN,
    );

    await screen.findByText("WEB-1001");
    const query = orders.last();
    expect(query.getAll("channel")).toEqual(["amazon", "blinkit"]);
    expect(query.getAll("status")).toEqual(["SHIPPED"]);
    expect(query.get("search")).toBe("asha");
    expect(query.get("sortBy")).toBe("total");
    expect(query.get("sortOrder")).toBe("asc");
    expect(query.get("page")).toBe("2");
    expect(query.get("limit")).toBe("50");
    expect(new Date(query.get("from")!).getTime()).toBe(new Date("2026-11-01T00:00:00").getTime());
    expect(new Date(query.get("to")!).getTime()).toBe(new Date("2026-11-20T23:59:59.999").getTime());

    expect(channelFilter("Amazon")).toHaveAttribute("aria-pressed", "true");
    expect(channelFilter("Website")).toHaveAttribute("aria-pressed", "false");
    expect(statusFilter("Shipped")).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByRole("searchbox", { name: "Search" })).toHaveValue("asha");
    expect(screen.getByLabelText("From")).toHaveValue("2026-11-01");
    expect(screen.getByLabelText("Rows per page")).toHaveValue("50");
    expect(screen.getByRole("columnheader", { name: /total/i })).toHaveAttribute("aria-sort", "ascending");
  });

  it("puts a changed filter in the URL, back on page 1, and queries with it", async () => {
    const orders = serveOrders();
    const app = await renderApp("/orders?page=3", ADMIN);
    await screen.findByText("WEB-1001");

    await userEvent.click(channelFilter("Blinkit"));
    await userEvent.click(statusFilter("Placed"));

    await waitFor(() => expect(app.search().getAll("status")).toEqual(["PLACED"]));
    expect(app.search().getAll("channel")).toEqual(["blinkit"]);
    expect(app.search().get("page")).toBeNull();
    await waitFor(() => expect(orders.last().getAll("status")).toEqual(["PLACED"]));
    expect(orders.last().getAll("channel")).toEqual(["blinkit"]);
    expect(orders.last().get("page")).toBe("1");

    // Back walks through the earlier views.
    await act(() => app.router.navigate(-1));
    await waitFor(() => expect(statusFilter("Placed")).toHaveAttribute("aria-pressed", "false"));
    expect(channelFilter("Blinkit")).toHaveAttribute("aria-pressed", "true");
  });

  it("searches once typing pauses, not per keystroke", async () => {
    const orders = serveOrders();
    const app = await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    const before = orders.requests.length;

    await userEvent.type(screen.getByRole("searchbox", { name: "Search" }), "WEB-10");

    await waitFor(() => expect(app.search().get("search")).toBe("WEB-10"));
    await waitFor(() => expect(orders.last().get("search")).toBe("WEB-10"));
    const searches = orders.requests.slice(before).map((query) => query.get("search"));
    expect(searches).toEqual(["WEB-10"]);
  });

  it("sorts on the server when a column header is pressed", async () => {
    const orders = serveOrders();
    const app = await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");

    await userEvent.click(screen.getByRole("button", { name: /^total/i }));
    await waitFor(() => expect(app.search().get("sortBy")).toBe("total"));
    expect(app.search().get("sortOrder")).toBeNull(); // desc is the default
    await waitFor(() => expect(orders.last().get("sortBy")).toBe("total"));

    await userEvent.click(screen.getByRole("button", { name: /^total/i }));
    await waitFor(() => expect(app.search().get("sortOrder")).toBe("asc"));
  });

  it("pages through results and changes the page size", async () => {
    const orders = serveOrders((url) => {
      const page = Number(url.searchParams.get("page"));
      const limit = Number(url.searchParams.get("limit"));
      const rows = Math.max(0, Math.min(limit, 45 - (page - 1) * limit));
      const shown = Array.from({ length: rows }, (_, n) => makeOrder({ id: `ord_${page}_${n}`, externalId: `WEB-${page}-${n}` }));
      return HttpResponse.json(makePage(shown, page, limit, 45));
    });
    const app = await renderApp("/orders", ADMIN);
    await screen.findByText("1–20 of 45");

    // Next follows the server's cursor (kept in the URL) and keeps counting pages.
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(app.search().get("page")).toBe("2"));
    expect(app.search().get("cursor")).toBe("next1");
    await waitFor(() => expect(orders.last().get("cursor")).toBe("next1"));
    await screen.findByText("21–40 of 45");

    await userEvent.selectOptions(screen.getByLabelText("Rows per page"), "50");
    await waitFor(() => expect(app.search().get("limit")).toBe("50"));
    expect(app.search().get("page")).toBeNull();
    await waitFor(() => expect(orders.last().get("limit")).toBe("50"));
  });

  it("shows the row's channel, customer, item count, total in rupees and status", async () => {
    serveOrders();
    await renderApp("/orders", ADMIN);
    const row = (await screen.findByText("WEB-1001")).closest("tr")!;
    const cells = within(row);
    expect(cells.getByText("Website")).toBeInTheDocument();
    expect(cells.getByText("Asha Rao")).toBeInTheDocument();
    expect(cells.getByText("3")).toBeInTheDocument();
    expect(cells.getByText("₹3,897.00")).toBeInTheDocument();
    expect(cells.getByText("Placed")).toBeInTheDocument();
    expect(cells.getByRole("link", { name: "WEB-1001" })).toHaveAttribute("href", "/orders/ord_1");
  });

  it("shows the stats above the table", async () => {
    serveOrders();
    await renderApp("/orders", ADMIN);
    const stats = await screen.findByRole("region", { name: "Order counts" });
    await within(stats).findByText("₹3,897.00");
    expect(within(stats).getByText("Orders · all time").nextSibling).toHaveTextContent("3");
  });

  it("narrows the table to a status picked in the counts", async () => {
    const orders = serveOrders();
    const app = await renderApp("/orders?status=PLACED&channel=amazon&page=2", ADMIN);
    const stats = await screen.findByRole("region", { name: "Order counts" });

    await userEvent.click(await within(stats).findByRole("button", { name: "Show only Confirmed orders" }));

    await waitFor(() => expect(app.search().getAll("status")).toEqual(["CONFIRMED"]));
    expect(app.search().getAll("channel")).toEqual(["amazon"]);
    expect(app.search().get("page")).toBeNull();
    await waitFor(() => expect(orders.last().getAll("status")).toEqual(["CONFIRMED"]));
  });

  it("says what to try when a search alone finds nothing: not removing a filter", async () => {
    serveOrders(() => HttpResponse.json(makePage([], 1, 20, 0)));
    const app = await renderApp("/orders?search=nobody", ADMIN);
    expect(await screen.findByText("No orders match “nobody”")).toBeInTheDocument();
    expect(screen.queryByText(/removing a filter/)).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Clear the search" }));
    await waitFor(() => expect(app.search().get("search")).toBeNull());
  });

  it("suggests removing the filters, keeping the search, when filters narrow an empty view", async () => {
    serveOrders(() => HttpResponse.json(makePage([], 1, 20, 0)));
    const app = await renderApp("/orders?search=nobody&channel=amazon", ADMIN);
    expect(await screen.findByText("No orders match “nobody” with these filters")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Remove the filters, keep the search" }));
    await waitFor(() => expect(app.search().get("channel")).toBeNull());
    expect(app.search().get("search")).toBe("nobody");
  });

  it("offers the first page when the URL points past the last one", async () => {
    serveOrders((url) => {
      const page = Number(url.searchParams.get("page"));
      return HttpResponse.json(makePage(page === 1 ? [makeOrder()] : [], page, 20, 1));
    });
    const app = await renderApp("/orders?page=9", ADMIN);
    expect(await screen.findByText("There is no page 9 in this view: it has 1 page")).toBeInTheDocument();
    // No nonsense range such as "161–1 of 1" or "Page 9 of 1" under it.
    expect(screen.queryByRole("navigation", { name: "Pages" })).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Go to the first page" }));
    expect(await screen.findByText("WEB-1001")).toBeInTheDocument();
    expect(app.search().get("page")).toBeNull();
  });

  it("shows an error with a retry that recovers", async () => {
    let fail = true;
    serveOrders(() =>
      fail
        ? HttpResponse.json({ error: { code: "unavailable", message: "Orders are unavailable", requestId: "r1" } }, { status: 503 })
        : HttpResponse.json(makePage([makeOrder()])),
    );
    await renderApp("/orders", ADMIN);
    expect(await screen.findByText("Orders are unavailable")).toBeInTheDocument();

    fail = false;
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByText("WEB-1001")).toBeInTheDocument();
  });
});
