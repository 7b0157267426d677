import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN, filterButton, MOCK_CHANNELS_URL, screenshot, signIn } from "./helpers";

/**
 * Working on many orders in the SPA: a bulk move from the table, an export downloaded by its
 * link, a saved view reopened, and the audit page showing those actions. Its orders are placed
 * on one day of 1999 that no other test uses, so the view of that day holds exactly them.
 */
const DAY = `1999-0${1 + Math.floor(Math.random() * 9)}-1${Math.floor(Math.random() * 9)}`;
const VIEW_URL = `/orders?channel=website&from=${DAY}&to=${DAY}`;
const COUNT = 6;

const rows = (page: Page) => page.locator("tbody tr.order-row");

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ request, baseURL }) => {
  // Noon UTC: the same calendar day in the browser's time zone, whichever it is within ±11h.
  const placedFrom = `${DAY}T11:00:00Z`;
  const placedTo = `${DAY}T12:59:00Z`;
  const response = await request.post(`${MOCK_CHANNELS_URL}/_control/website/orders`, {
    data: { count: COUNT, placedFrom, placedTo },
  });
  expect(response.ok(), "creating orders at the website").toBe(true);
  const login = await request.post(`${baseURL}/api/auth/login`, { data: ADMIN });
  const { accessToken } = (await login.json()) as { accessToken: string };
  await expect
    .poll(
      async () => {
        const found = await request.get(`${baseURL}/api/orders`, {
          params: { channel: "website", from: `${DAY}T00:00:00Z`, to: `${DAY}T23:59:59Z` },
          headers: { Authorization: `Bearer ${accessToken}`, "Cache-Control": "no-cache" },
        });
        return found.ok() ? ((await found.json()) as { pagination: { total: number } }).pagination.total : 0;
      },
      { timeout: 120_000, message: "the created orders reach the API" },
    )
    .toBe(COUNT);
});

test("a bulk move from the table says what moved and what was refused", async ({ page }) => {
  await signIn(page, ADMIN, VIEW_URL);
  await expect(rows(page)).toHaveCount(COUNT);
  await rows(page).nth(0).getByRole("checkbox").check();
  await rows(page).nth(1).getByRole("checkbox").check();
  const bar = page.getByRole("region", { name: "Bulk actions" });
  await expect(bar.getByText("2 selected")).toBeVisible();
  await bar.getByLabel("Move to").selectOption("CANCELLED");
  await bar.getByRole("button", { name: "Move 2 orders…" }).click();
  await bar.getByLabel(/^Reason/).fill("Duplicate orders");
  await bar.getByRole("button", { name: "Review the move of 2 orders" }).click();
  await expect(bar.getByRole("group", { name: "Confirm the bulk move" })).toContainText("This cannot be undone.");
  await bar.getByRole("button", { name: "Yes, move 2 orders" }).click();
  await expect(bar.getByText("2 moved, 0 refused.")).toBeVisible();
  await expect(page.locator("tbody .status-cancelled")).toHaveCount(2);

  // The whole page: the two already cancelled are refused, the state machine says why.
  await page.getByRole("checkbox", { name: "Select every order on this page" }).check();
  await bar.getByLabel("Move to").selectOption("CONFIRMED");
  await bar.getByRole("button", { name: `Move ${COUNT} orders…` }).click();
  await bar.getByRole("button", { name: `Review the move of ${COUNT} orders` }).click();
  await bar.getByRole("button", { name: `Yes, move ${COUNT} orders` }).click();
  await expect(bar.getByText(`${COUNT - 2} moved, 2 refused.`)).toBeVisible();
  await expect(bar.getByRole("table", { name: "Refused orders" }).getByText(/already cancelled this order/)).toHaveCount(2);
  await expect(page.locator("tbody .status-confirmed")).toHaveCount(COUNT - 2);
  await screenshot(page, "bulk-move");
});

test("an export of the view downloads as CSV", async ({ page }) => {
  await signIn(page, ADMIN, VIEW_URL);
  await expect(rows(page)).toHaveCount(COUNT);
  await page.getByRole("button", { name: "Export CSV" }).click();
  const link = page.getByRole("link", { name: "Download CSV" });
  await expect(link).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole("status", { name: "Export" }).getByText("Done")).toBeVisible();
  await screenshot(page, "export");
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  expect(download.suggestedFilename()).toMatch(/^orders-.*\.csv$/);
  const text = readFileSync(await download.path(), "utf-8").replace(/^\ufeff/, "");
  const lines = text.trim().split("\r\n");
  expect(lines[0]).toContain("Order ID,External ID,Channel,Status");
  expect(lines).toHaveLength(COUNT + 1);
});

test("a saved view reopens, and opens by itself as the default", async ({ page }) => {
  const name = `Website ${DAY} ${Date.now() % 10000}`;
  await signIn(page, ADMIN, `${VIEW_URL}&status=CONFIRMED&sortBy=total&sortOrder=asc`);
  await page.getByRole("button", { name: "Save this view" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("My default").check();
  await page.getByRole("button", { name: "Save view" }).click();
  await expect(page.getByRole("combobox", { name: "Open a saved view" }).locator("option", { hasText: name })).toHaveCount(1);

  await filterButton(page, "Status", "Confirmed").click();
  await expect(page).not.toHaveURL(/status=CONFIRMED/);
  await page.getByRole("combobox", { name: "Open a saved view" }).selectOption({ label: `${name} (default)` });
  await expect(page).toHaveURL(/status=CONFIRMED/);
  await expect(page).toHaveURL(/sortBy=total/);
  await expect(rows(page)).toHaveCount(COUNT - 2);

  // Opening the list plainly (a new visit; the session cookie keeps it signed in) shows the
  // default view.
  await page.goto("/orders");
  await expect(page).toHaveURL(new RegExp(`from=${DAY}`));
  await expect(rows(page)).toHaveCount(COUNT - 2);
  await screenshot(page, "saved-view");

  // Cleaned up, so other tests open a plain list.
  await page.getByText("Manage").click();
  await page.getByRole("button", { name: `Delete the view ${name}` }).click();
  await expect(page.getByRole("combobox", { name: "Open a saved view" }).locator("option", { hasText: name })).toHaveCount(0);
});

// Whatever happened above, later specs must open a plain list, not this spec's default view.
test.afterAll(async ({ request, baseURL }) => {
  const login = await request.post(`${baseURL}/api/auth/login`, { data: ADMIN });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const headers = { Authorization: `Bearer ${accessToken}` };
  const views = await request.get(`${baseURL}/api/views`, { headers });
  const { views: saved } = (await views.json()) as { views: { id: string }[] };
  for (const view of saved) await request.delete(`${baseURL}/api/views/${view.id}`, { headers });
});

test("the audit page shows those actions with who and from where", async ({ page }) => {
  await signIn(page, ADMIN, "/orders");
  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();
  for (const action of ["bulk_move.applied", "export.requested", "view.saved", "view.deleted"]) {
    await expect(page.getByRole("cell", { name: action, exact: true }).first()).toBeVisible({ timeout: 30_000 });
  }
  await page.getByLabel("Action").selectOption("view.saved");
  await expect(page).toHaveURL(/action=view\.saved/);
  await expect(page.locator("tbody tr").first().getByRole("cell", { name: "view.saved", exact: true })).toBeVisible();
  await expect(page.locator("tbody td", { hasText: "bulk_move.applied" })).toHaveCount(0);
  await screenshot(page, "audit");
});
