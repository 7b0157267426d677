import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { DownloadLink } from "../export/ExportButton";
import type { Job } from "../bulk/types";
import { ADMIN, makeOrder, makePage, STATS } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

/** Serves the list and the stats, recording the query of each request. */
function serve(page = makePage([makeOrder()])) {
  const lists: URLSearchParams[] = [];
  const stats: URLSearchParams[] = [];
  server.use(
    http.get(api("/api/orders/stats"), ({ request }) => {
      stats.push(new URL(request.url).searchParams);
      return HttpResponse.json(STATS);
    }),
    http.get(api("/api/orders"), ({ request }) => {
      lists.push(new URL(request.url).searchParams);
      return HttpResponse.json(page);
    }),
    http.get(api("/api/orders/tags"), () =>
      HttpResponse.json({ tags: [{ tag: "vip", orders: 2 }, { tag: "gift wrap", orders: 1 }] }),
    ),
  );
  return { lists, stats, last: () => lists[lists.length - 1]!, lastStats: () => stats[stats.length - 1]! };
}

describe("counts and tags follow every filter of the table", () => {
  it("asks the stats with the tag the table is narrowed to", async () => {
    const requests = serve();
    await renderApp("/orders?tag=vip", ADMIN);
    await screen.findByText("WEB-1001", {}, { timeout: 5000 });
    await waitFor(() => expect(requests.lastStats().getAll("tag")).toEqual(["vip"]));
    expect(screen.getByText("Orders · in this view")).toBeInTheDocument();
  }, 20_000);

  it("offers Clear filters for a view narrowed by a tag alone", async () => {
    serve();
    const app = await renderApp("/orders?tag=vip", ADMIN);
    await userEvent.click(await screen.findByRole("button", { name: "Clear filters" }, { timeout: 5000 }));
    await waitFor(() => expect(app.search().getAll("tag")).toEqual([]));
  }, 20_000);

  it("picks a tag from the tags in use, with their counts", async () => {
    const requests = serve();
    const app = await renderApp("/orders", ADMIN);
    const picker = await screen.findByLabelText("Tag", {}, { timeout: 5000 });
    expect(screen.getByRole("option", { name: "vip (2)" })).toBeInTheDocument();
    await userEvent.selectOptions(picker, "gift wrap");
    await waitFor(() => expect(app.search().getAll("tag")).toEqual(["gift wrap"]));
    await waitFor(() => expect(requests.last().getAll("tag")).toEqual(["gift wrap"]));
  }, 20_000);
});

describe("keyset paging", () => {
  it("says 'about' for an estimated total", async () => {
    const page = makePage([makeOrder()], 1, 20, 12000);
    page.pagination.totalIsEstimate = true;
    serve(page);
    await renderApp("/orders?search=sharma", ADMIN);
    expect(await screen.findByText("1–20 of about 12,000", {}, { timeout: 5000 })).toBeInTheDocument();
  }, 20_000);

  it("jumps to a date under the date sort, and to the last page by its cursor", async () => {
    const requests = serve(makePage([makeOrder()], 1, 20, 500));
    const app = await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001", {}, { timeout: 5000 });
    await userEvent.type(screen.getByLabelText("Jump to date placed"), "2026-11-01");
    await userEvent.click(screen.getByRole("button", { name: "Go" }));
    await waitFor(() => expect(app.search().get("startAt")).toBe("2026-11-01"));
    expect(app.search().get("page")).toBeNull();
    await waitFor(() => expect(requests.last().get("startAt")).toBe(new Date("2026-11-01T23:59:59.999").toISOString()));
    await screen.findByText("Page —");

    await userEvent.click(screen.getByRole("button", { name: "Last" }));
    await waitFor(() => expect(app.search().get("cursor")).toBe("last"));
    expect(app.search().get("startAt")).toBeNull();
    expect(app.search().get("page")).toBe("25");
  }, 20_000);

  it("offers a jump by amount under the total sort, by status under the status sort", async () => {
    serve(makePage([makeOrder()], 1, 20, 500));
    const app = await renderApp("/orders?sortBy=total", ADMIN);
    await userEvent.type(await screen.findByLabelText("Jump to total", {}, { timeout: 5000 }), "2500");
    await userEvent.click(screen.getByRole("button", { name: "Go" }));
    await waitFor(() => expect(app.search().get("startAt")).toBe("2500"));
    // A change of sort starts again from the first page.
    await userEvent.click(screen.getByRole("button", { name: /^Status/ }));
    await waitFor(() => expect(app.search().get("startAt")).toBeNull());
    expect(await screen.findByLabelText("Jump to status")).toBeInTheDocument();
  }, 20_000);
});

describe("an export's download link", () => {
  const job = (expiresInMs: number): Job =>
    ({
      id: "job_1",
      kind: "export",
      state: "succeeded",
      downloadUrl: "/api/exports/job_1/download?sig=x",
      downloadExpiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    }) as Job;

  it("offers the file while the link works", () => {
    render(<DownloadLink job={job(60_000)} again={() => undefined} />);
    expect(screen.getByRole("link", { name: "Download CSV" })).toHaveAttribute("href", "/api/exports/job_1/download?sig=x");
  });

  it("says an expired link expired and offers to export again, never the dead link", async () => {
    const again = vi.fn();
    render(<DownloadLink job={job(-1)} again={again} />);
    expect(screen.queryByRole("link", { name: "Download CSV" })).not.toBeInTheDocument();
    expect(screen.getByText(/download link has expired/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Export again" }));
    expect(again).toHaveBeenCalledOnce();
  });

  it("says 'expired' when the finished job comes with a link that ran out after the export began", async () => {
    const running = { ...job(60_000), state: "running", downloadUrl: null, downloadExpiresAt: null } as Job;
    const { rerender } = render(<DownloadLink job={running} again={() => undefined} />);
    await new Promise((resolve) => setTimeout(resolve, 50));
    rerender(<DownloadLink job={job(-10)} again={() => undefined} />);
    expect(await screen.findByText(/download link has expired/)).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Download CSV" })).not.toBeInTheDocument();
  });

  it("turns into 'expired' when the link runs out while on screen", async () => {
    render(<DownloadLink job={job(300)} again={() => undefined} />);
    expect(screen.getByRole("link", { name: "Download CSV" })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole("button", { name: "Export again" })).toBeInTheDocument(), { timeout: 3000 });
  });
});
