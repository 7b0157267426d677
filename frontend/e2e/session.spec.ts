import { expect, test, type Page } from "@playwright/test";
import { ADMIN, signIn } from "./helpers";

/**
 * The session cookie in a real browser: the refresh token sits in an HttpOnly cookie no script
 * can read, so a reload and a new tab restore the session silently, and signing out ends it in
 * every tab.
 */
async function expectSignedIn(page: Page) {
  await expect(page.getByRole("heading", { name: "Orders", level: 1 })).toBeVisible();
  await expect(page.getByText(ADMIN.email)).toBeVisible();
}

test("a reload and a new tab stay signed in, and signing out ends both", async ({ page, context }) => {
  await signIn(page, ADMIN);
  await expectSignedIn(page);

  // Nothing a script could steal: no web storage, and the refresh token is not in document.cookie.
  const seen = await page.evaluate(() => ({
    storage: localStorage.length + sessionStorage.length,
    cookie: document.cookie,
  }));
  expect(seen.storage).toBe(0);
  expect(seen.cookie).not.toContain("orderhub_refresh");
  const refresh = (await context.cookies()).find(({ name }) => name === "orderhub_refresh");
  expect(refresh).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/api/auth" });

  await page.reload();
  await expectSignedIn(page);

  const other = await context.newPage();
  await other.goto("/orders");
  await expectSignedIn(other);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  // The other tab hears of it at once, and a reload there finds no session either.
  await expect(other.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await other.reload();
  await expect(other.getByRole("heading", { name: "Sign in" })).toBeVisible();
  expect((await context.cookies()).find(({ name }) => name === "orderhub_refresh")).toBeUndefined();
});
