import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { delay, http, HttpResponse } from "msw";
import { ADMIN, makeOrder, makePage, STATS } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";
import { presetRange } from "./datePresets";

/** Serves lists and stats, recording the query of every stats request. */
function serve(orders = [makeOrder(), makeOrder({ id: "ord_2", externalId: "WEB-1002" })]) {
  const statsQueries: URLSearchParams[] = [];
  server.use(
    http.get(api("/api/orders/stats"), ({ request }) => {
      statsQueries.push(new URL(request.url).searchParams);
      return HttpResponse.json({
        ...STATS,
        revenue: [
          { channel: "blinkit", currency: "INR", amount: 100 },
          { channel: "website", currency: "INR", amount: 3897 },
          { channel: "amazon", currency: "INR", amount: 50 },
        ],
      });
    }),
    http.get(api("/api/orders"), () => HttpResponse.json(makePage(orders))),
  );
  return statsQueries;
}

describe("the orders page at work", () => {
  afterEach(() => localStorage.clear());

  it("asks the stats for the list's filters, says what they count, and lists channels in one order", async () => {
    const statsQueries = serve();
    await renderApp("/orders?channel=amazon&status=PLACED&search=asha&sortBy=total&page=2", ADMIN);
    const stats = await screen.findByRole("region", { name: "Order counts" });
    await within(stats).findByText("Orders · in this view");
    const query = statsQueries[statsQueries.length - 1]!;
    expect(query.getAll("channel")).toEqual(["amazon"]);
    expect(query.getAll("status")).toEqual(["PLACED"]);
    expect(query.get("search")).toBe("asha");
    expect(query.get("page")).toBeNull();
    expect(query.get("sortBy")).toBeNull();
    expect(within(stats).getByText(/Cancelled orders are left out/)).toBeInTheDocument();
    const revenue = within(stats).getByRole("heading", { name: "Revenue · in this view" }).closest(".stat-card")!;
    expect([...revenue.querySelectorAll("dt")].map((dt) => dt.textContent)).toEqual(["Website INR", "Amazon INR", "Blinkit INR"]);
  });

  it("keeps the paging label on the rows shown until the next page arrives", async () => {
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), async ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get("page") ?? 1);
        if (page === 2) await delay(600);
        return HttpResponse.json(makePage([makeOrder({ externalId: `WEB-P${page}` })], page, 20, 45));
      }),
    );
    await renderApp("/orders", ADMIN);
    await screen.findByText("1–20 of 45");
    // Every state of the page the browser could paint, not only the ones the test waits for.
    const mismatched: string[] = [];
    const watcher = new MutationObserver(() => {
      const text = document.body.textContent ?? "";
      if (text.includes("WEB-P2") && text.includes("1–20 of 45")) mismatched.push("page 2's rows under page 1's label");
    });
    watcher.observe(document.body, { subtree: true, childList: true, characterData: true });
    try {
      await userEvent.click(screen.getByRole("button", { name: "Next" }));
      expect(screen.getByText("1–20 of 45")).toBeInTheDocument();
      expect(screen.getByText("WEB-P1")).toBeInTheDocument();
      expect(await screen.findByText("WEB-P2")).toBeInTheDocument();
      expect(screen.getByText("21–40 of 45")).toBeInTheDocument();
      expect(screen.getByText("Page 2 of 3")).toBeInTheDocument();
    } finally {
      watcher.disconnect();
    }
    expect(mismatched).toEqual([]);
  });

  it("focuses the search on / and walks the orders with j and k", async () => {
    serve();
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1002");
    await userEvent.keyboard("j");
    expect(screen.getByRole("link", { name: "WEB-1001" })).toHaveFocus();
    await userEvent.keyboard("j");
    expect(screen.getByRole("link", { name: "WEB-1002" })).toHaveFocus();
    await userEvent.keyboard("k");
    expect(screen.getByRole("link", { name: "WEB-1001" })).toHaveFocus();
    await userEvent.keyboard("/");
    expect(screen.getByRole("searchbox", { name: "Search" })).toHaveFocus();
    // Typing in the search is typing, not shortcuts.
    await userEvent.keyboard("jk/");
    expect(screen.getByRole("searchbox", { name: "Search" })).toHaveValue("jk/");
  });

  it("offers a skip link straight to the first order", async () => {
    serve();
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    await userEvent.click(screen.getByRole("link", { name: "Skip to the first order" }));
    expect(screen.getByRole("link", { name: "WEB-1001" })).toHaveFocus();
  });

  it("sets a date range from a preset in one choice, the date fields only for a custom range", async () => {
    serve();
    const app = await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    expect(screen.queryByLabelText("From")).not.toBeInTheDocument();
    await userEvent.selectOptions(screen.getByLabelText("Placed"), "Last 7 days");
    const range = presetRange("last7");
    await waitFor(() => expect(app.search().get("from")).toBe(range.from));
    expect(app.search().get("to")).toBe(range.to);
    await userEvent.selectOptions(screen.getByLabelText("Placed"), "Custom range…");
    expect(screen.getByLabelText("From")).toHaveValue(range.from);
  });

  it("keeps a user's density and columns across visits, per user", async () => {
    serve();
    const first = await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    await userEvent.click(screen.getByRole("button", { name: "View options" }));
    await userEvent.click(screen.getByRole("radio", { name: "Compact" }));
    await userEvent.click(screen.getByRole("checkbox", { name: "Customer" }));
    expect(screen.queryByRole("columnheader", { name: "Customer" })).not.toBeInTheDocument();
    expect(screen.getByRole("table")).toHaveClass("density-compact");
    first.unmount();

    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    expect(screen.queryByRole("columnheader", { name: "Customer" })).not.toBeInTheDocument();
    expect(screen.getByRole("table")).toHaveClass("density-compact");
  });

  it("flags orders waiting too long in Placed, at the threshold the user picks", async () => {
    const placedAt = new Date(Date.now() - 30 * 3_600_000).toISOString();
    serve([makeOrder({ placedAt }), makeOrder({ id: "ord_2", externalId: "WEB-1002", placedAt: new Date().toISOString() })]);
    await renderApp("/orders", ADMIN);
    const old = (await screen.findByText("WEB-1001")).closest("tr")!;
    expect(within(old).getByText(/30 h/)).toBeInTheDocument();
    expect(within(screen.getByText("WEB-1002").closest("tr")!).queryByText(/ h$/)).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "View options" }));
    await userEvent.selectOptions(screen.getByLabelText(/waiting longer than/), "48 hours");
    expect(within(old).queryByText(/30 h/)).not.toBeInTheDocument();
  });
});

describe("the orders page on a phone", () => {
  const realMatchMedia = window.matchMedia;
  beforeEach(() => {
    window.matchMedia = ((query: string) => ({
      matches: query.includes("max-width"),
      media: query,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    })) as unknown as typeof window.matchMedia;
  });
  afterEach(() => {
    window.matchMedia = realMatchMedia;
  });

  it("lists orders as cards with total and status, and folds the filters behind a button", async () => {
    serve();
    await renderApp("/orders?status=PLACED", ADMIN);
    await screen.findByRole("link", { name: "WEB-1001" });
    const cards = screen.getByRole("list", { name: "Orders" });
    const card = within(cards).getAllByRole("listitem")[0]!;
    expect(within(card).getByRole("link", { name: "WEB-1001" })).toBeInTheDocument();
    expect(within(card).getByText("₹3,897.00")).toBeInTheDocument();
    expect(within(card).getByText("Placed")).toBeInTheDocument();
    expect(screen.queryByRole("table")).not.toBeInTheDocument();

    expect(screen.queryByRole("group", { name: "Channel" })).not.toBeInTheDocument();
    const toggle = screen.getByRole("button", { name: "Filters (1)" });
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    expect(screen.getByRole("group", { name: "Channel" })).toBeInTheDocument();
  });
});
