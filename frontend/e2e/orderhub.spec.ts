import { expect, test, type Page } from "@playwright/test";
import { ADMIN, expectAccessible, filterButton, MOCK_CHANNELS_URL, screenshot, settledRows, signIn as signInAs, VIEWER } from "./helpers";

/**
 * The SPA against a running stack (`make up`). Accounts and the mock channels' control API come
 * from the environment, defaulting to the development values of .env.example.
 */
const orderLinks = (page: Page) => page.locator("tbody .order-link");

async function signIn(page: Page, account: { email: string; password: string }) {
  await signInAs(page, account);
  await expect(page.getByText(account.email)).toBeVisible();
}

/**
 * Every test needs some orders, and a test stack starts with none: create a few at each channel
 * and wait until the newest has come through ingest into the API.
 */
test.beforeAll(async ({ request, baseURL }) => {
  const created: string[] = [];
  for (const [channel, count] of [["website", 3], ["amazon", 2], ["blinkit", 2]] as const) {
    const response = await request.post(`${MOCK_CHANNELS_URL}/_control/${channel}/orders`, { data: { count } });
    expect(response.ok(), `creating orders at ${channel}`).toBe(true);
    created.push(...((await response.json()) as { created: string[] }).created);
  }
  const login = await request.post(`${baseURL}/api/auth/login`, { data: ADMIN });
  expect(login.ok(), "admin sign-in through the API").toBe(true);
  const { accessToken } = (await login.json()) as { accessToken: string };
  await expect
    .poll(
      async () => {
        const found = await request.get(`${baseURL}/api/orders`, {
          params: { search: created[created.length - 1]! },
          headers: { Authorization: `Bearer ${accessToken}` },
        });
        return found.ok() ? ((await found.json()) as { pagination: { total: number } }).pagination.total : 0;
      },
      { timeout: 90_000, message: "the created orders reach the API" },
    )
    .toBeGreaterThan(0);
});

test("the sign-in page", async ({ page }) => {
  await page.goto("/orders");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await screenshot(page, "sign-in");
  await expectAccessible(page);
});

test("an admin filters, searches, opens an order and moves it to its next status", async ({ page }) => {
  await signIn(page, ADMIN);
  await expect(page.getByRole("region", { name: "Order counts" }).getByText("Revenue")).toBeVisible();
  await settledRows(page);
  await screenshot(page, "orders");
  await expectAccessible(page);

  await filterButton(page, "Channel", "Website").click();
  await filterButton(page, "Status", "Placed").click();
  await expect(page).toHaveURL(/channel=website/);
  await expect(page).toHaveURL(/status=PLACED/);
  await settledRows(page);
  const rows = page.locator("tbody tr");
  for (const row of await rows.all()) {
    await expect(row).toContainText("Website");
    await expect(row).toContainText("Placed");
  }

  const externalId = (await orderLinks(page).first().textContent())!.trim();
  await page.getByRole("searchbox", { name: "Search" }).fill(externalId);
  await expect(page).toHaveURL(new RegExp(`search=${encodeURIComponent(externalId)}`));
  await settledRows(page);
  await expect(page.getByRole("link", { name: externalId, exact: true })).toBeVisible();
  for (const link of await orderLinks(page).all()) await expect(link).toContainText(externalId);
  await screenshot(page, "orders-filtered");

  // The view survives a reload: it lives in the URL.
  await page.reload();
  // The session cookie restores the session: the reloaded view is shown, signed in.
  await settledRows(page);
  await expect(page.getByRole("searchbox", { name: "Search" })).toHaveValue(externalId);
  await expect(filterButton(page, "Status", "Placed")).toHaveAttribute("aria-pressed", "true");

  await page.getByRole("link", { name: externalId, exact: true }).click();
  const dialog = page.getByRole("dialog", { name: `Order ${externalId}` });
  await expect(dialog).toBeVisible();
  const history = dialog.getByRole("list", { name: "Status history" }).getByRole("listitem");
  await expect(history.first()).toBeVisible();
  const before = await history.count();
  await screenshot(page, "order-detail-admin");
  await expectAccessible(page);

  await dialog.getByLabel("Note (optional)").fill("Confirmed by the browser test");
  await dialog.getByRole("button", { name: "Mark confirmed" }).click();
  await expect(history).toHaveCount(before + 1);
  await expect(history.last()).toContainText("Confirmed");
  await expect(history.last()).toContainText("Confirmed by the browser test");
  await expect(dialog.getByText("Moved to Confirmed.")).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Mark shipped" })).toBeEnabled();
  await expect(dialog.getByLabel("Note (optional)")).toHaveValue("");
  await screenshot(page, "order-detail-after-move");

  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL(/\/orders\?/);
});

test("a viewer sees orders but no action", async ({ page }) => {
  await signIn(page, VIEWER);
  await expect(page.getByText("viewer", { exact: true })).toBeVisible();
  await settledRows(page);
  await orderLinks(page).first().click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByRole("heading", { name: /^Order / })).toBeVisible();
  await expect(dialog.getByRole("list", { name: "Status history" })).toBeVisible();
  await expect(dialog.getByRole("button", { name: /^Mark |Cancel order/ })).toHaveCount(0);
  await expect(dialog.getByLabel("Note (optional)")).toHaveCount(0);
  await screenshot(page, "order-detail-viewer");
});

test("an order created at a channel appears in the open table without a reload", async ({ page, request }) => {
  await signIn(page, ADMIN);
  await settledRows(page);
  // The stream is open (the pipeline's lag decides between these words, not the stream).
  await expect(page.getByRole("status").filter({ hasText: /^(Live|Catching up|Connected)/ })).toBeVisible();

  const created = await request.post(`${MOCK_CHANNELS_URL}/_control/website/orders`, { data: { count: 1 } });
  expect(created.ok()).toBe(true);
  const [externalId] = ((await created.json()) as { created: string[] }).created;

  const notice = page.getByRole("button", { name: /new orders?/ });
  await expect(notice).toBeVisible({ timeout: 90_000 });
  await screenshot(page, "orders-live-notice");
  await notice.click();
  await expect(page.getByRole("link", { name: externalId!, exact: true })).toBeVisible();
});

test("the channels panel shows every channel's circuit", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.getByRole("link", { name: "Channels" }).click();
  await expect(page.getByRole("heading", { name: "Channels", level: 1 })).toBeVisible();
  for (const name of ["Website", "Amazon", "Blinkit"]) {
    await expect(page.getByRole("heading", { name, level: 2 })).toBeVisible();
  }
  await expect(page.locator(".channel-card .badge")).toHaveCount(3);
  await screenshot(page, "channels");
  await expectAccessible(page);
});

test("a channel outage shows on the channels panel at a glance", async ({ page, request }) => {
  const faults = `${MOCK_CHANNELS_URL}/_control/blinkit/faults`;
  await signIn(page, ADMIN);
  await page.getByRole("link", { name: "Channels" }).click();
  const blinkit = page.getByRole("listitem", { name: "Blinkit" });
  const circuit = blinkit.locator(".badge");
  await expect(circuit).toHaveText(/^Healthy/);

  expect((await request.put(faults, { data: { down: true, errorRate: 0, latencyMs: 0 } })).ok()).toBe(true);
  try {
    await expect(circuit).toHaveText(/^Failing/, { timeout: 90_000 });
    // The kind of error in words, then the channel's own message.
    await expect(blinkit.locator(".error-text").last()).not.toBeEmpty();
    await screenshot(page, "channels-outage");
  } finally {
    await request.put(faults, { data: { down: false, errorRate: 0, latencyMs: 0 } });
  }
  await expect(circuit).toHaveText(/^Healthy/, { timeout: 90_000 });
});
