import { expect, test, type Page } from "@playwright/test";
import {
  ADMIN,
  createOrders,
  expectAccessible,
  orderLinks,
  screenshot,
  setFaults,
  settledRows,
  signIn,
} from "./helpers";

/** The SPA as an admin's daily tool (issue #12): each scenario an admin relies on, end to end. */

const statusFilter = (page: Page, name: string) =>
  page.getByRole("group", { name: "Status" }).getByRole("button", { name, exact: true });
const channelFilter = (page: Page, name: string) =>
  page.getByRole("group", { name: "Channel" }).getByRole("button", { name, exact: true });

test.beforeAll(async ({ request, baseURL }) => {
  await createOrders(request, baseURL, "website", 3);
  await createOrders(request, baseURL, "amazon", 2);
});

test("cancelling asks to confirm, requires a reason and keeps it in the history", async ({ page }) => {
  await signIn(page, ADMIN);
  await statusFilter(page, "Placed").click();
  await settledRows(page);
  await orderLinks(page).first().click();
  const dialog = page.getByRole("dialog", { name: /^Order / });
  const history = dialog.getByRole("list", { name: "Status history" }).getByRole("listitem");
  await expect(history.first()).toBeVisible();

  await dialog.getByRole("button", { name: "Cancel order…" }).click();
  await expect(dialog.getByText("Cancelling is final")).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel the order" }).click();
  await expect(dialog.getByText("Give a reason for cancelling.")).toBeVisible();
  await expect(dialog.getByLabel(/^Reason/)).toBeFocused();
  await screenshot(page, "cancel-asks-for-a-reason");
  await expectAccessible(page);

  await dialog.getByLabel(/^Reason/).fill("The customer asked to cancel");
  await dialog.getByRole("button", { name: "Cancel the order" }).click();
  await expect(history.last()).toContainText("Cancelled");
  await expect(history.last()).toContainText("The customer asked to cancel");
  await expect(history.last()).toContainText(`by you`);
  await expect(dialog.getByText("Cancelled is final: this order cannot be moved again.")).toBeVisible();
  await expect(dialog.getByRole("button", { name: /^Mark |^Cancel/ })).toHaveCount(0);
  await screenshot(page, "order-cancelled-final");
});

test("a channel outage shows a banner and a nav badge on the Orders page, gone after recovery", async ({ page, request }) => {
  await signIn(page, ADMIN);
  await settledRows(page);
  const banner = page.getByRole("region", { name: "Channel outages" });
  await expect(banner).toHaveCount(0);

  await setFaults(request, "website", true);
  try {
    await expect(banner).toBeVisible({ timeout: 15_000 });
    await expect(banner).toContainText(/Website failing since \d\d:\d\d/);
    await expect(page.getByRole("navigation", { name: "Main" }).getByText("1 failing")).toBeVisible();
    await expect(banner).toContainText(/failed polls?/);
    await screenshot(page, "orders-outage-banner");
    await expectAccessible(page);
  } finally {
    await setFaults(request, "website", false);
  }
  await expect(banner).toHaveCount(0, { timeout: 90_000 });
  await expect(page.getByRole("navigation", { name: "Main" }).getByText(/failing/)).toHaveCount(0);
});

test("the new-orders notice on a filtered view counts only the orders that view shows", async ({ page, request, baseURL }) => {
  await signIn(page, ADMIN);
  await channelFilter(page, "Website").click();
  await expect(page).toHaveURL(/channel=website/);
  await settledRows(page);

  // Amazon orders arrive first: a Website view must not announce them.
  await createOrders(request, baseURL, "amazon", 2);
  const [websiteOrder] = await createOrders(request, baseURL, "website", 1);
  const notice = page.getByRole("button", { name: /new orders?/ });
  await expect(notice).toHaveText("1 new order · Show", { timeout: 30_000 });
  await screenshot(page, "orders-filtered-live-notice");

  await notice.click();
  const row = page.locator("tbody tr", { has: page.getByRole("link", { name: websiteOrder!, exact: true }) });
  await expect(row).toBeVisible();
  await expect(row).toHaveClass(/is-new/);
  for (const channel of await page.locator("tbody tr .channel-tag").allTextContents()) expect(channel).toBe("Website");
  await screenshot(page, "orders-new-rows-highlighted");
});

test("the stats follow a filter and say what they count", async ({ page }) => {
  await signIn(page, ADMIN);
  await settledRows(page);
  const stats = page.getByRole("region", { name: "Order counts" });
  await expect(stats.getByRole("heading", { name: "Orders · all time" })).toBeVisible();
  await expect(stats.getByText("Cancelled orders are left out")).toBeVisible();

  await channelFilter(page, "Amazon").click();
  await settledRows(page);
  await expect(stats.getByRole("heading", { name: "Orders · in this view" })).toBeVisible();
  // The summary may still show the unfiltered total for a moment: retry both together.
  let total = "";
  await expect(async () => {
    total = ((await page.locator(".pagination-summary").textContent()) ?? "").split(" of ")[1]?.trim() ?? "";
    await expect(stats.locator(".stat-value").first()).toHaveText(total, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  const byChannel = stats.locator(".stat-card").first().locator(".stat-list > div");
  await expect(byChannel.nth(0)).toContainText(/Website\s*0/);
  await expect(byChannel.nth(1)).toContainText(`Amazon${total}`);
  await screenshot(page, "stats-follow-a-filter");
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("the first order is on the first screen, as a card, with the filters behind a button", async ({ page }) => {
    await signIn(page, ADMIN);
    const firstCard = page.locator(".order-card").first();
    await expect(firstCard.locator(".order-link")).toBeVisible();
    const box = (await firstCard.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(844);
    // Nothing scrolls sideways: total and status are on the card.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await expect(firstCard.locator(".order-card-total")).toBeVisible();
    await expect(firstCard.locator(".badge")).toBeVisible();
    await expect(page.getByRole("group", { name: "Channel" })).toHaveCount(0);
    await screenshot(page, "phone-orders");
    await expectAccessible(page);

    await page.getByRole("button", { name: /^Filters/ }).click();
    await expect(page.getByRole("group", { name: "Channel" })).toBeVisible();
    await channelFilter(page, "Website").click();
    await expect(page.getByRole("button", { name: "Filters (1)" })).toBeVisible();
    await screenshot(page, "phone-filters");
  });
});

test("keyboard only: from sign-in to a status move, with the skip link, j/k and the note before the buttons", async ({ page, request, baseURL }) => {
  const [newest] = await createOrders(request, baseURL, "website", 1);
  await page.goto("/login");
  await expect(page.getByLabel("Email")).toBeFocused();
  await page.keyboard.type(ADMIN.email);
  await page.keyboard.press("Tab");
  await page.keyboard.type("not the password");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("alert")).toContainText("do not match");
  // A failed sign-in leaves focus on the password, not on the page body.
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(ADMIN.password);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Orders", level: 1 })).toBeVisible();
  await settledRows(page);

  // Two Tabs and Enter from the signed-in page to the first order.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to content" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to the first order" })).toBeFocused();
  await page.keyboard.press("Enter");
  const first = page.getByRole("link", { name: newest!, exact: true });
  await expect(first).toBeFocused();
  await page.keyboard.press("j");
  await expect(first).not.toBeFocused();
  await page.keyboard.press("k");
  await expect(first).toBeFocused();
  await page.keyboard.press("/");
  await expect(page.getByRole("searchbox", { name: "Search" })).toBeFocused();
  await page.keyboard.press("Shift+Tab"); // out of the field, onto the counts' last link

  // Back to the order (j from anywhere outside a field focuses the first one) and open it.
  await page.keyboard.press("j");
  await expect(first).toBeFocused();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: `Order ${newest}` });
  await expect(dialog).toBeVisible();
  await page.keyboard.press("Tab"); // the close button
  await page.keyboard.press("Tab"); // the note comes before the move buttons
  await expect(dialog.getByLabel("Note (optional)")).toBeFocused();
  await page.keyboard.type("Confirmed from the keyboard");
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "Mark confirmed" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(dialog.getByText("Moved to Confirmed.")).toBeVisible();
  const history = dialog.getByRole("list", { name: "Status history" }).getByRole("listitem");
  await expect(history.last()).toContainText("Confirmed from the keyboard");
  await screenshot(page, "keyboard-status-move");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
});

test("an admin adds a viewer on the Users page, and that viewer signs in", async ({ page }) => {
  const email = `colleague-${Date.now()}@orderhub.test`;
  const password = "a-first-password-for-the-test";
  await signIn(page, ADMIN);
  await page.getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { name: "Users", level: 1 })).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("First password").fill(password);
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("status").filter({ hasText: `${email} can now sign in as viewer` })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: email })).toBeVisible();
  await screenshot(page, "users-added-a-viewer");
  await expectAccessible(page);

  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, { email, password });
  await expect(page.getByText("viewer", { exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
  await settledRows(page);
  await orderLinks(page).first().click();
  await expect(page.getByRole("dialog").getByRole("button", { name: /^Mark |^Cancel/ })).toHaveCount(0);
  await screenshot(page, "users-viewer-signed-in");
});
