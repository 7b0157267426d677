import { expect, test, type Page } from "@playwright/test";
import { ADMIN, createOrders, screenshot, settledRows, signIn } from "./helpers";

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

test.beforeAll(async ({ request, baseURL }) => {
  await createOrders(request, baseURL, "website", 30);
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
