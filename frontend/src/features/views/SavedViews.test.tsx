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
    http.patch(api("/api/views/:id"), async ({ request, params }) => {
      const body = (await request.json()) as Record<string, unknown>;
      saved.push({ id: params.id, ...body });
      return HttpResponse.json({ view: { ...SAVED, ...body } });
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
    expect(saved[0]).toMatchObject({
      name: "Shipped by total",
      view: { status: ["SHIPPED"], sortBy: "total", sortOrder: "asc" },
      isDefault: false,
      shared: true,
      pageSize: 20,
    });
    expect((saved[0] as { columns: string[] }).columns.length).toBeGreaterThan(0);
  }, 20_000);

  it("keeps the tag filter and rows per page, shows the open view and marks it changed", async () => {
    const tagged = { ...SAVED, view: { tag: ["vip"], channel: ["blinkit"] }, pageSize: 50 };
    serve([tagged]);
    const app = await renderApp("/orders", VIEWER);

    await waitFor(() => expect(app.search().getAll("tag")).toEqual(["vip"]), { timeout: 5000 });
    expect(app.search().get("limit")).toBe("50");
    expect(app.search().getAll("channel")).toEqual(["blinkit"]);
    const picker = screen.getByRole("combobox", { name: "Open a saved view" });
    await waitFor(() => expect(picker).toHaveValue("view_1"));
    expect(screen.queryByText("Changed")).not.toBeInTheDocument();

    // Editing the filters keeps the view named in the picker, marked changed.
    await userEvent.click(screen.getByRole("button", { name: "Remove the tag filter vip" }));
    expect(await screen.findByText("Changed")).toBeInTheDocument();
    expect(picker).toHaveValue("view_1");
  }, 20_000);

  it("renames a view, updates it with the list on screen, makes it default and shares it afterwards", async () => {
    const saved = serve([{ ...SAVED, ownerId: "u_admin", isDefault: false }]);
    await renderApp("/orders?status=SHIPPED&limit=50", ADMIN);
    await screen.findByText("WEB-1001", {}, { timeout: 5000 });
    await userEvent.click(screen.getByText("Manage"));

    await userEvent.click(screen.getByRole("button", { name: "Rename the view Amazon to ship" }));
    const name = screen.getByLabelText("New name for Amazon to ship");
    await userEvent.clear(name);
    await userEvent.type(name, "Shipped{Enter}");
    await waitFor(() => expect(saved).toContainEqual({ id: "view_1", name: "Shipped" }));

    await userEvent.click(screen.getByRole("button", { name: /^Update the view/ }));
    await waitFor(() => expect(saved).toContainEqual(expect.objectContaining({ id: "view_1", pageSize: 50, view: expect.objectContaining({ status: ["SHIPPED"] }) })));

    await userEvent.click(screen.getByRole("button", { name: /my default$/ }));
    await waitFor(() => expect(saved).toContainEqual({ id: "view_1", isDefault: true }));
    await userEvent.click(screen.getByRole("button", { name: /with the team$/ }));
    await waitFor(() => expect(saved).toContainEqual({ id: "view_1", shared: true }));
  }, 20_000);

  it("offers viewers no sharing", async () => {
    serve([]);
    await renderApp("/orders", VIEWER);
    await userEvent.click(await screen.findByRole("button", { name: "Save this view" }, { timeout: 5000 }));
    expect(screen.queryByLabelText("Share with the team")).not.toBeInTheDocument();
  }, 20_000);
});
