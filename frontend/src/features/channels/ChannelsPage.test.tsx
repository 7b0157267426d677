import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { ADMIN, VIEWER } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";

describe("channels panel", () => {
  it("shows each channel's circuit in words, its last poll, last error and orders ingested", async () => {
    server.use(
      http.get(api("/api/channels"), () =>
        HttpResponse.json([
          { channel: "website", circuit: "closed", lastSuccessAt: new Date().toISOString(), lastErrorAt: null, lastError: null, ordersIngested: 1204 },
          { channel: "amazon", circuit: "open", lastSuccessAt: null, lastErrorAt: new Date().toISOString(), lastError: "503 from channel", ordersIngested: 88 },
          { channel: "blinkit", circuit: "half_open", lastSuccessAt: "2026-11-24T10:05:00Z", lastErrorAt: "2026-11-24T10:00:00Z", lastError: "timed out", ordersIngested: 0 },
        ]),
      ),
    );
    await renderApp("/channels", VIEWER);

    const card = (name: string) => screen.getByRole("listitem", { name });
    await screen.findByRole("heading", { name: "Amazon" });
    expect(within(card("Website")).getByText("Healthy")).toBeInTheDocument();
    expect(within(card("Website")).getByText("1,204")).toBeInTheDocument();
    expect(within(card("Website")).getByText("just now")).toBeInTheDocument();
    expect(within(card("Amazon")).getByText("Failing")).toBeInTheDocument();
    expect(within(card("Amazon")).getByText("503 from channel")).toBeInTheDocument();
    expect(within(card("Amazon")).getByText("never")).toBeInTheDocument();
    expect(within(card("Blinkit")).getByText("Recovering")).toBeInTheDocument();
    expect(within(card("Blinkit")).getByText(/recovered since/)).toBeInTheDocument();
    expect(within(card("Amazon")).queryByText(/recovered since/)).not.toBeInTheDocument();
  });

  it("says which connector each channel runs, live or simulated, the error's kind and the history import", async () => {
    server.use(
      http.get(api("/api/channels"), () =>
        HttpResponse.json([
          { ...ROW, channel: "amazon", connection: { connector: "amazon-sp-api-orders-v0", mode: "live", sandbox: false }, lastErrorAt: new Date().toISOString(), lastError: "amazon: throttled (getOrders still throttled)", lastErrorKind: "throttled", backfill: { since: "2026-09-01T00:00:00Z", until: "2026-12-01T00:00:00Z", reached: "2026-10-15T00:00:00Z", done: false }, backfillPercent: 48.9 },
          { ...ROW, channel: "blinkit", connection: { connector: "blinkit-simulated-feed", mode: "simulated", sandbox: false } },
        ]),
      ),
    );
    await renderApp("/channels", VIEWER);

    const card = (name: string) => screen.getByRole("listitem", { name });
    await screen.findByRole("heading", { name: "Amazon" });
    expect(within(card("Amazon")).getByText("Live · amazon-sp-api-orders-v0")).toBeInTheDocument();
    expect(within(card("Amazon")).getByText("Throttled by the channel")).toBeInTheDocument();
    expect(within(card("Amazon")).getByText(/^49% · read up to/)).toBeInTheDocument();
    expect(within(card("Blinkit")).getByText(/Simulated · blinkit-simulated-feed \(Blinkit has no public seller API\)/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Test .* connection/ })).not.toBeInTheDocument();
  });

  it("lets an admin test a channel's connection and shows the answer in plain words", async () => {
    const tested: string[] = [];
    server.use(
      http.get(api("/api/channels"), () => HttpResponse.json([{ ...ROW, channel: "amazon" }])),
      http.post(api("/api/channels/:channel/connection-test"), ({ params }) => {
        tested.push(String(params.channel));
        return HttpResponse.json({
          channel: "amazon",
          ok: false,
          detail: "amazon: the access token expired or the sign-in was refused (Login with Amazon refused: invalid_grant)",
          elapsedMs: 41.2,
          connection: { connector: "amazon-sp-api-orders-v0", mode: "live", sandbox: false },
          testedAt: new Date().toISOString(),
        });
      }),
    );
    await renderApp("/channels", ADMIN);

    await userEvent.click(await screen.findByRole("button", { name: "Test Amazon connection" }));

    expect(await screen.findByText(/Failed: amazon: the access token expired or the sign-in was refused/)).toBeInTheDocument();
    expect(screen.getByText(/\(41 ms\)/)).toBeInTheDocument();
    expect(tested).toEqual(["amazon"]);
  });
});

const ROW = {
  circuit: "closed",
  lastSuccessAt: null,
  lastErrorAt: null,
  lastError: null,
  failingSince: null,
  failedPolls: 0,
  ordersIngested: 0,
  paused: false,
  connection: { connector: "amazon-sp-api-orders-v0", mode: "simulated", sandbox: false },
};
