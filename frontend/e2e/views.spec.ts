import { expect, test, type Page } from "@playwright/test";
import { ADMIN, adminToken, createOrders, orderLinks, screenshot, settledRows, signIn } from "./helpers";

/**
 * Working on many orders, second pass: saved views keep everything, counts follow every filter,
 * keyset paging with jumps, expired export links, every page on a phone.
 */

/** The page has drawn what it loaded (the live event stream keeps the network busy forever). */
async function settle(page: Page) {
  await expect(page.locator(".skeleton")).toHaveCount(0);
  await page.waitForTimeout(500);
}

const ROUTES = ["/orders", "/channels", "/users", "/dead-letters", "/audit"];

/**
 * The page's width and what sticks out past the phone's 390 px: a phone browser zooms out to
 * the widest content (so innerWidth alone would grow with it), and a table in a scrolling box
 * or a clipped one hides its overflow from the page's own scroll width.
 */
async function scrollsSideways(page: Page): Promise<{ scrollWidth: number; innerWidth: number; widest: string }> {
  return page.evaluate(() => {
    const root = document.scrollingElement ?? document.documentElement;
    const width = 390;
    let widest = "";
    for (const element of Array.from(document.querySelectorAll("body *"))) {
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      if (box.width === 0 || style.visibility === "hidden" || element.closest(".stats, .visually-hidden")) continue;
      if (box.right > width + 1) {
        widest = `${element.tagName.toLowerCase()}.${String(element.className).split(" ").join(".")} (right ${Math.round(box.right)}) ${element.outerHTML.slice(0, 160)}`;
        break;
      }
    }
    return { scrollWidth: widest ? Math.max(root.scrollWidth, width + 1) : root.scrollWidth, innerWidth: Math.min(window.innerWidth, width), widest };
  });
}

const TAG = `vip ${Date.now().toString(36)}`;

test.beforeAll(async ({ request, baseURL }) => {
  const created = await createOrders(request, baseURL, "website", 30);
  // Two orders carry this run's tag.
  const token = await adminToken(request, baseURL);
  const headers = { Authorization: `Bearer ${token}`, "Cache-Control": "no-cache" };
  for (const externalId of created.slice(0, 2)) {
    const found = await request.get(`${baseURL}/api/orders`, { params: { search: externalId }, headers });
    const [order] = ((await found.json()) as { orders: { id: string }[] }).orders;
    const tagged = await request.patch(`${baseURL}/api/orders/${order!.id}/tags`, { data: { add: [TAG] }, headers });
    expect(tagged.ok()).toBe(true);
  }
  // The tags in use follow the projection, a moment behind the move.
  await expect
    .poll(async () => {
      const inUse = await request.get(`${baseURL}/api/orders/tags`, { headers });
      return ((await inUse.json()) as { tags: { tag: string; orders: number }[] }).tags.find((t) => t.tag === TAG)?.orders;
    })
    .toBe(2);
});

const statValue = (page: Page) => page.locator(".stat-card").first().locator(".stat-value");

test("the counts follow the tag filter, picked from the tags in use, and Clear filters clears it", async ({ page }) => {
  await signIn(page, ADMIN, "/orders");
  await settledRows(page);
  // A list the gateway cached before the tags were added may answer for a few seconds.
  await expect(async () => {
    await page.reload();
    await expect(page.getByLabel("Tag", { exact: true }).locator("option", { hasText: TAG })).toHaveCount(1, { timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  await page.getByLabel("Tag", { exact: true }).selectOption(TAG);
  await expect(page).toHaveURL(/tag=/);
  await expect(orderLinks(page)).toHaveCount(2);
  await expect(page.getByText("Orders · in this view")).toBeVisible();
  await expect(statValue(page)).toHaveText("2");
  await screenshot(page, "tag-picker");
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect(page).not.toHaveURL(/tag=/);
  await expect(page.getByText("Orders · all time")).toBeVisible();
});

test("a saved view keeps the tag and rows per page, is shown as open, marked changed, and managed afterwards", async ({ page }) => {
  const name = `Tagged ${Date.now().toString(36)}`;
  await signIn(page, ADMIN, `/orders?tag=${encodeURIComponent(TAG)}&limit=50`);
  await expect(orderLinks(page)).toHaveCount(2);
  await page.getByRole("button", { name: "Save this view" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Save view" }).click();
  const picker = page.getByRole("combobox", { name: "Open a saved view" });
  await expect(picker.locator("option:checked")).toHaveText(name);

  // Elsewhere, then back by the picker: every piece of the state comes back.
  await page.goto("/orders");
  await settledRows(page);
  await picker.selectOption({ label: name });
  await expect(page).toHaveURL(/limit=50/);
  await expect(page).toHaveURL(/tag=/);
  await expect(orderLinks(page)).toHaveCount(2);
  await expect(page.getByLabel("Rows per page")).toHaveValue("50");
  await expect(picker.locator("option:checked")).toHaveText(name);

  await page.getByRole("button", { name: `Remove the tag filter ${TAG}` }).click();
  await expect(page.getByText("Changed", { exact: true })).toBeVisible();
  await screenshot(page, "saved-view-changed");
  await page.getByRole("button", { name: "Revert" }).click();
  await expect(orderLinks(page)).toHaveCount(2);

  await page.getByText("Manage").click();
  await page.getByRole("button", { name: `Rename the view ${name}` }).click();
  await page.getByLabel(`New name for ${name}`).fill(`${name} renamed`);
  await page.getByRole("button", { name: "Rename", exact: true }).click();
  await expect(picker.locator("option:checked")).toHaveText(`${name} renamed`);
  await page.getByRole("button", { name: `Make ${name} renamed my default` }).click();
  await expect(picker.locator("option:checked")).toHaveText(`${name} renamed (default)`);
  await screenshot(page, "saved-views-manage");
  await page.getByRole("button", { name: `Delete the view ${name} renamed` }).click();
  await expect(picker.locator("option:checked")).toHaveCount(1);
});

test("next, previous, last and a jump page by cursor, kept in the URL", async ({ page }) => {
  await signIn(page, ADMIN, "/orders?limit=10");
  await settledRows(page);
  const firstPage = await orderLinks(page).allTextContents();
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(page.getByText("Page 2 of")).toBeVisible();
  await settledRows(page);
  const secondPage = await orderLinks(page).allTextContents();
  expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
  // A reload keeps the page (its cursor is in the URL).
  await page.reload();
  await settledRows(page);
  expect(await orderLinks(page).allTextContents()).toEqual(secondPage);
  await page.getByRole("button", { name: "Previous" }).click();
  await settledRows(page);
  expect(await orderLinks(page).allTextContents()).toEqual(firstPage);

  await page.getByRole("button", { name: "Last" }).click();
  await expect(page.getByRole("button", { name: "Next" })).toBeDisabled();
  await settledRows(page);

  // Tomorrow, newest first: the first page again.
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel("Jump to date placed").fill(tomorrow);
  await page.getByRole("button", { name: "Go" }).click();
  await expect(page).toHaveURL(/startAt=/);
  await settledRows(page);
  expect(await orderLinks(page).allTextContents()).toEqual(firstPage);
  await page.locator(".pagination").scrollIntoViewIfNeeded();
  await screenshot(page, "keyset-paging");

  await page.getByRole("columnheader", { name: /Total/ }).getByRole("button").click();
  await expect(page.getByLabel("Jump to total")).toBeVisible();
});

test("an expired export link says so and offers to export again", async ({ page }) => {
  // The link expires after five minutes: the job's answer is aged instead of waiting.
  await page.route("**/api/jobs/*", async (route) => {
    const response = await route.fetch();
    // Any other answer (a 429 while the machine is busy) goes through as it came.
    const body = response.ok() ? ((await response.json()) as { job?: { downloadExpiresAt?: string | null } }) : {};
    if (!body.job?.downloadExpiresAt) return route.fulfill({ response });
    body.job.downloadExpiresAt = new Date(Date.now() - 1000).toISOString();
    await route.fulfill({ response, json: body });
  });
  await signIn(page, ADMIN, `/orders?tag=${encodeURIComponent(TAG)}`);
  await expect(orderLinks(page)).toHaveCount(2);
  await page.getByRole("button", { name: "Export CSV" }).click();
  await expect(page.getByText("This download link has expired.")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole("link", { name: "Download CSV" })).toHaveCount(0);
  await screenshot(page, "export-expired");
  await page.unroute("**/api/jobs/*");
  await page.getByRole("button", { name: "Export again" }).click();
  await expect(page.getByRole("link", { name: "Download CSV" })).toBeVisible({ timeout: 60_000 });
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("no page scrolls sideways", async ({ page }) => {
    await signIn(page, ADMIN, "/orders");
    await settledRows(page);
    for (const route of [...ROUTES, "/orders?tag=vip"]) {
      await page.goto(route);
      await expect(page.locator("h1")).toBeVisible();
      await settle(page);
      const measured = await scrollsSideways(page);
      expect(measured.scrollWidth, `${route} scrolls sideways: ${measured.widest}`).toBeLessThanOrEqual(measured.innerWidth);
    }
    // The order drawer too.
    await page.goto("/orders");
    await settledRows(page);
    await page.locator("#orders-list .order-link").first().click();
    await expect(page.getByRole("dialog")).toBeVisible();
    await settle(page); // past its slide-in
    const drawer = await scrollsSideways(page);
    expect(drawer.scrollWidth, `the drawer scrolls sideways: ${drawer.widest}`).toBeLessThanOrEqual(drawer.innerWidth);
    await page.goto("/users");
    await settle(page);
    await screenshot(page, "phone-users");
    await page.goto("/audit");
    await settle(page);
    await screenshot(page, "phone-audit");
  });
});
