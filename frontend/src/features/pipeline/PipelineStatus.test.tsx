import { screen, waitFor } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { VIEWER } from "../../test/fixtures";
import { renderApp } from "../../test/renderApp";
import { api, server } from "../../test/server";
import { catchingUpLabel, formatBehind, formatWaiting, type Pipeline } from "./queries";

const CATCHING_UP: Pipeline = {
  state: "catching_up",
  behindSeconds: 742,
  waiting: 80_187,
  lanes: [
    { lane: "live", waiting: 3, oldestWaitingAgeSeconds: 0.8 },
    { lane: "history", waiting: 80_184, oldestWaitingAgeSeconds: 742 },
  ],
  measuredAt: "2026-12-06T08:00:00Z",
};

const servePipeline = (pipeline: Pipeline) =>
  server.use(http.get(api("/api/pipeline"), () => HttpResponse.json(pipeline)));

describe("the header's pipeline state", () => {
  it("says Live when the stream is open and the pipeline is live", async () => {
    await renderApp("/channels", VIEWER);

    const status = await screen.findByRole("status", { name: "" });
    await waitFor(() => expect(status).toHaveTextContent(/^Live$/));
    expect(screen.queryByRole("heading", { name: /Catching up/ })).not.toBeInTheDocument();
  });

  it("says how far behind it is while catching up, and the Channels page explains it", async () => {
    servePipeline(CATCHING_UP);
    await renderApp("/channels", VIEWER);

    const status = await screen.findByRole("status", { name: "" });
    await waitFor(() =>
      expect(status).toHaveTextContent("Catching up: about 12 min behind, 80,000 changes waiting"),
    );
    expect(status).not.toHaveTextContent(/Live/);
    expect(await screen.findByRole("heading", { name: /Catching up: about 12 min behind/ })).toBeInTheDocument();
    expect(screen.getByText(/A history import is in progress/)).toHaveTextContent(
      "New orders and recent changes still arrive first, on the live lane",
    );
  });

  it("never says Live while the pipeline's lag is unknown", async () => {
    server.use(
      http.get(api("/api/pipeline"), () =>
        HttpResponse.json({ error: { code: "service_unavailable", message: "down", requestId: "r" } }, { status: 503 }),
      ),
    );
    await renderApp("/orders", VIEWER);

    const status = await screen.findByRole("status", { name: "" });
    await waitFor(() => expect(status).toHaveTextContent("Connected, lag unknown"));
  });
});

describe("lag in words", () => {
  it("rounds to what a person reads at a glance", () => {
    expect(formatBehind(742)).toBe("about 12 min");
    expect(formatBehind(12)).toBe("about 12 s");
    expect(formatBehind(3 * 3600)).toBe("about 3 h");
    expect(formatWaiting(80_187)).toBe("80,000 changes waiting");
    expect(formatWaiting(1)).toBe("1 change waiting");
    expect(formatWaiting(812)).toBe("812 changes waiting");
    expect(catchingUpLabel(CATCHING_UP)).toBe("Catching up: about 12 min behind, 80,000 changes waiting");
  });
});
