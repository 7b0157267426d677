import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Page } from "@playwright/test";

/**
 * What the browser suites share. Accounts and the mock channels' control API come from the
 * environment, defaulting to the development values of .env.example.
 */
export const ADMIN = {
  email: process.env.ADMIN_EMAIL ?? "admin@orderhub.local",
  password: process.env.ADMIN_PASSWORD ?? "dev-only-admin-password",
};
export const VIEWER = {
  email: process.env.VIEWER_EMAIL ?? "viewer@orderhub.local",
  password: process.env.VIEWER_PASSWORD ?? "dev-only-viewer-password",
};
export const MOCK_CHANNELS_URL = process.env.MOCK_CHANNELS_URL ?? "http://127.0.0.1:8004";
/**
 * Screenshots of every scenario (desktop 1280x800, phone 390x844): into docs/screenshots when run
 * by hand or by `make screenshots`; `make test` keeps them in test-artifacts/screenshots.
 */
export const SCREENSHOTS = process.env.SCREENSHOTS_DIR ?? "../docs/screenshots";

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png` });
}

/** No WCAG 2.1 A/AA violation (contrast, labels, roles, names) on what the page shows now. */
export async function expectAccessible(page: Page) {
  const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(violations.map(({ id, help, nodes }) => `${id}: ${help} (${nodes.map((node) => node.target).join(", ")})`)).toEqual([]);
}

/**
 * Signs in by the form. With a ``path``, opens it first: a fresh page is sent to the sign-in
 * form, which leads back to it.
 */
export async function signIn(page: Page, account: { email: string; password: string }, path?: string) {
  if (path) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/login$/);
  } else {
    await page.goto("/login");
  }
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Orders", level: 1 })).toBeVisible();
}

export const filterButton = (page: Page, group: "Channel" | "Status", name: string) =>
  page.getByRole("group", { name: group }).getByRole("button", { name, exact: true });

export const orderLinks = (page: Page) => page.locator("#orders-list .order-link");

/** Waits for the list to show rows fetched for the current URL (not the previous page's). */
export async function settledRows(page: Page) {
  await expect(page.locator(".is-refreshing")).toHaveCount(0);
  await expect(orderLinks(page).first()).toBeVisible();
}

export async function adminToken(request: APIRequestContext, baseURL: string | undefined): Promise<string> {
  const login = await request.post(`${baseURL}/api/auth/login`, { data: ADMIN });
  expect(login.ok(), "admin sign-in through the API").toBe(true);
  return ((await login.json()) as { accessToken: string }).accessToken;
}

/** Creates orders at a channel and waits until the last of them is in the API; their external ids. */
export async function createOrders(
  request: APIRequestContext,
  baseURL: string | undefined,
  channel: "website" | "amazon" | "blinkit",
  count: number,
): Promise<string[]> {
  const response = await request.post(`${MOCK_CHANNELS_URL}/_control/${channel}/orders`, { data: { count } });
  expect(response.ok(), `creating orders at ${channel}`).toBe(true);
  const created = ((await response.json()) as { created: string[] }).created;
  const token = await adminToken(request, baseURL);
  await expect
    .poll(
      async () => {
        const found = await request.get(`${baseURL}/api/orders`, {
          params: { search: created[created.length - 1]! },
          headers: { Authorization: `Bearer ${token}`, "Cache-Control": "no-cache" },
        });
        return found.ok() ? ((await found.json()) as { pagination: { total: number } }).pagination.total : 0;
      },
      { timeout: 90_000, message: `the orders created at ${channel} reach the API` },
    )
    .toBeGreaterThan(0);
  return created;
}

export async function setFaults(request: APIRequestContext, channel: string, down: boolean) {
  const response = await request.put(`${MOCK_CHANNELS_URL}/_control/${channel}/faults`, {
    data: { down, errorRate: 0, latencyMs: 0 },
  });
  expect(response.ok()).toBe(true);
}
