import { writeFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { settledRows, signIn, VIEWER } from "./helpers";

/**
 * An Orders tab left open while something else moves many orders (issue 23, "calm tabs"): run by
 * tests/e2e/test_calm_tab.py, which starts the bulk move once this tab says it is counting, and
 * reads the counts this test writes. Skipped in the general browser run.
 */
const RESULT = process.env.CALM_TAB_RESULT;
const READY = process.env.CALM_TAB_READY;
const WINDOW_MS = Number(process.env.CALM_TAB_WINDOW_S ?? "60") * 1000;

test.skip(!RESULT || !READY, "run by tests/e2e/test_calm_tab.py");

test("an idle Orders tab stays calm while orders change", async ({ page }) => {
  test.setTimeout(WINDOW_MS + 120_000);
  await signIn(page, VIEWER);
  await settledRows(page);

  const requests: string[] = [];
  const statuses: Record<string, number> = {};
  const failed: string[] = [];
  const isApi = (url: string) => new URL(url).pathname.startsWith("/api/");
  page.on("request", (request) => {
    if (isApi(request.url())) requests.push(`${request.method()} ${new URL(request.url()).pathname}`);
  });
  page.on("response", (response) => {
    if (isApi(response.url())) statuses[response.status()] = (statuses[response.status()] ?? 0) + 1;
  });
  page.on("requestfailed", (request) => {
    if (isApi(request.url())) failed.push(`${new URL(request.url()).pathname}: ${request.failure()?.errorText}`);
  });

  writeFileSync(READY!, "counting");
  await page.waitForTimeout(WINDOW_MS);
  const header = await page.getByRole("banner").getByRole("status").textContent();
  writeFileSync(RESULT!, JSON.stringify({ requests, statuses, failed, header }, null, 2));
  await expect(page.getByRole("heading", { name: "Orders", level: 1 })).toBeVisible();
});
