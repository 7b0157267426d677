import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { ADMIN, makeOrder, makePage, STATS, VIEWER } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

const SAVED = {
  id: "view_1",
  name: "Amazon to ship",
  ownerId: "u_viewer",
  mine: true,
  shared: false,
  isDefault: true,
  view: { channel: ["amazon"], status: ["CONFIRMED"], sortBy: "total", sortOrder: "asc" },
  columns: [],
  createdAt: "2026-11-20T10:00:00Z",
  updatedAt: "2026-11-20T10:00:00Z",
};

function serve(views: unknown[]) {
  const saved: unknown[] = [];
  server.use(
    http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
    http.get(api("/api/orders"), () => HttpResponse.json(makePage([makeOrder()]))),
    http.get(api("/api/views"), () => HttpResponse.json({ views })),
    http.post(api("/api/views"), async ({ request }) => {
      const body = await request.json();
      saved.push(body);
      return HttpResponse.json({ view: { ...SAVED, id: "view_2" } }, { status: 201 });
    }),
  );
  return saved;
}

describe("saved views beside the filters", () => {
  it("opens the user's default view on a plain visit, and another on choosing it", async () => {
    serve([SAVED, { ...SAVED, id: "view_t", name: "Team", mine: false, shared: true, isDefault: false, view: { status: ["PLACED"] } }]);
    const app = await renderApp("/orders", VIEWER);

    await waitFor(() => expect(app.search().getAll("channel")).toEqual(["amazon"]), { timeout: 5000 });
    expect(app.search().get("sortBy")).toBe("total");
    expect(app.search().get("limit")).toBeNull();
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Open a saved view" }), "view_t");
    expect(app.search().getAll("status")).toEqual(["PLACED"]);
    expect(app.search().getAll("channel")).toEqual([]);
  }, 20_000);

  it("saves the current view by name; only admins may share it", async () => {
    const saved = serve([]);
    await renderApp("/orders?status=SHIPPED&sortBy=total&sortOrder=asc", ADMIN);
    await screen.findByText("WEB-1001", {}, { timeout: 5000 });
    await userEvent.click(screen.getByRole("button", { name: "Save this view" }));
    await userEvent.type(screen.getByLabelText("Name"), "Shipped by total");
    await userEvent.click(screen.getByLabelText("Share with the team"));
    await userEvent.click(screen.getByRole("button", { name: "Save view" }));

    await waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0]).toEqual({
      name: "Shipped by total",
      view: { status: ["SHIPPED"], sortBy: "total", sortOrder: "asc" },
      isDefault: false,
      shared: true,
      columns: [],
    });
  }, 20_000);

  it("offers viewers no sharing", async () => {
    serve([]);
    await renderApp("/orders", VIEWER);
    await userEvent.click(await screen.findByRole("button", { name: "Save this view" }, { timeout: 5000 }));
    expect(screen.queryByLabelText("Share with the team")).not.toBeInTheDocument();
  }, 20_000);
});
