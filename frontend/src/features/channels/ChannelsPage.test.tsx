import { screen, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { VIEWER } from "../../test/fixtures";
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
});
