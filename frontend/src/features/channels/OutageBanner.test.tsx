import { screen, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import type { ChannelState } from "../../lib/apiTypes";
import { formatClock } from "../../lib/format";
import { ADMIN, makeOrder, makePage, STATS } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";
import { describeOutage } from "./health";

const since = new Date(Date.now() - 5 * 60_000).toISOString();
const channel = (overrides: Partial<ChannelState>): ChannelState => ({
  channel: "website",
  circuit: "closed",
  lastSuccessAt: since,
  lastErrorAt: null,
  lastError: null,
  failingSince: null,
  failedPolls: 0,
  paused: false,
  ordersIngested: 5,
  ...overrides,
});

function serve(states: ChannelState[]) {
  server.use(
    http.get(api("/api/channels"), () => HttpResponse.json(states)),
    http.get(api("/api/orders/stats"), () => HttpResponse.json(STATS)),
    http.get(api("/api/orders"), () => HttpResponse.json(makePage([makeOrder()]))),
  );
}

describe("outage banner", () => {
  it("names a failing channel on the Orders page, since when, its failed polls and last error, with a nav badge", async () => {
    serve([
      channel({ circuit: "open", failingSince: since, failedPolls: 3, lastErrorAt: since, lastError: "503 from channel" }),
      channel({ channel: "amazon" }),
      channel({ channel: "blinkit" }),
    ]);
    await renderApp("/orders", ADMIN);
    const banner = await screen.findByRole("region", { name: "Channel outages" });
    expect(banner).toHaveTextContent(`Website failing since ${formatClock(since)}, 3 failed polls, last error: 503 from channel`);
    expect(banner).not.toHaveTextContent(/Amazon|Blinkit/);
    expect(within(screen.getByRole("navigation", { name: "Main" })).getByRole("link", { name: /Channels/ })).toHaveTextContent(
      "Channels1 failing",
    );
  });

  it("says Recovering, never Half open, while the breaker probes", () => {
    const text = describeOutage(channel({ circuit: "half_open", failingSince: since, failedPolls: 1 }));
    expect(text).toMatch(/^Website recovering since \d\d:\d\d, 1 failed poll$/);
    expect(text).not.toMatch(/open|closed/i);
  });

  it("shows nothing while every channel is healthy", async () => {
    serve([channel({}), channel({ channel: "amazon" }), channel({ channel: "blinkit" })]);
    await renderApp("/orders", ADMIN);
    await screen.findByText("WEB-1001");
    expect(screen.queryByRole("region", { name: "Channel outages" })).not.toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Channels" })).toHaveTextContent(/^Channels$/);
  });
});
