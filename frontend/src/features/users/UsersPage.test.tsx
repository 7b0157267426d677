import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import type { UserAccount } from "../../lib/apiTypes";
import { ADMIN, makeOrder, makePage, STATS, VIEWER } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

const STAMPS = { createdAt: "2026-11-01T00:00:00Z", updatedAt: "2026-11-01T00:00:00Z" };

/** A tiny users backend: lists, adds and patches, as auth would. */
function serveUsers() {
  let users: UserAccount[] = [
    { ...ADMIN, active: true, ...STAMPS },
    { id: "u_old", email: "old@orderhub.test", displayName: "old@orderhub.test", role: "viewer", active: true, ...STAMPS },
  ];
  const calls: { method: string; body: unknown }[] = [];
  server.use(
    http.get(api("/api/users"), () => HttpResponse.json({ users })),
    http.post(api("/api/users"), async ({ request }) => {
      const body = (await request.json()) as { email: string; role: UserAccount["role"]; displayName?: string };
      calls.push({ method: "POST", body });
      const displayName = body.displayName ?? body.email;
      const user: UserAccount = { id: "u_new", email: body.email, displayName, role: body.role, active: true, ...STAMPS };
      users = [...users, user];
      return HttpResponse.json({ user }, { status: 201 });
    }),
    http.patch(api("/api/users/:id"), async ({ request, params }) => {
      const body = (await request.json()) as Partial<UserAccount>;
      calls.push({ method: `PATCH ${String(params.id)}`, body });
      users = users.map((user) => (user.id === params.id ? { ...user, ...body } : user));
      return HttpResponse.json({ user: users.find((user) => user.id === params.id) });
    }),
  );
  return calls;
}

describe("users page", () => {
  it("lets an admin add a colleague with a role, change a role and deactivate", async () => {
    const calls = serveUsers();
    await renderApp("/users", ADMIN);
    await screen.findByRole("rowheader", { name: "old@orderhub.test" });

    await userEvent.type(screen.getByLabelText("Email"), "new@orderhub.test");
    await userEvent.type(screen.getByLabelText("Display name"), "Neha N");
    await userEvent.type(screen.getByLabelText("First password"), "a-long-first-password");
    await userEvent.selectOptions(screen.getByLabelText("Role"), "viewer");
    await userEvent.click(screen.getByRole("button", { name: "Add user" }));
    expect(await screen.findByText(/new@orderhub.test can now sign in as viewer/)).toBeInTheDocument();
    expect(calls[0]).toEqual({ method: "POST", body: { email: "new@orderhub.test", password: "a-long-first-password", role: "viewer", displayName: "Neha N" } });
    expect(await screen.findByRole("rowheader", { name: "new@orderhub.test" })).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByLabelText("Role of old@orderhub.test"), "admin");
    await waitFor(() => expect(calls[1]).toEqual({ method: "PATCH u_old", body: { role: "admin" } }));
    await userEvent.click(screen.getByRole("button", { name: "Deactivate old@orderhub.test" }));
    await waitFor(() => expect(calls[2]).toEqual({ method: "PATCH u_old", body: { active: false } }));
    const row = (await screen.findByRole("button", { name: "Reactivate old@orderhub.test" })).closest("tr")!;
    expect(within(row).getByText(/Deactivated/)).toBeInTheDocument();
    // A display name is set afterwards too.
    const name = screen.getByLabelText("Display name of old@orderhub.test");
    await userEvent.clear(name);
    await userEvent.type(name, "Olga Old{Enter}");
    await waitFor(() => expect(calls[3]).toEqual({ method: "PATCH u_old", body: { displayName: "Olga Old" } }));
    // Admins cannot lock themselves out.
    expect(screen.getByLabelText(`Role of ${ADMIN.email}`)).toBeDisabled();
    expect(screen.queryByRole("button", { name: `Deactivate ${ADMIN.email}` })).not.toBeInTheDocument();
  });

  it("is only for admins: a viewer has no link and is sent to the orders", async () => {
    server.use(
      http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
      http.get(api("/api/orders"), () => HttpResponse.json(makePage([makeOrder()]))),
    );
    const app = await renderApp("/users", VIEWER);
    await screen.findByText("WEB-1001");
    expect(app.location().pathname).toBe("/orders");
    expect(screen.queryByRole("link", { name: "Users" })).not.toBeInTheDocument();
  });
});
