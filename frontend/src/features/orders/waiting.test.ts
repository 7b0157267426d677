import { makeOrder } from "../../test/fixtures";
import { formatWaited, waitingTooLong } from "./waiting";

const hoursAgo = (hours: number, now: number) => new Date(now - hours * 3_600_000).toISOString();

describe("orders waiting too long", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  const order = (status: "PLACED" | "CONFIRMED" | "SHIPPED", hours: number) =>
    makeOrder({
      status,
      statusHistory: [{ status, changedAt: hoursAgo(hours, now), changedBy: null, source: "channel", note: null }],
    });

  it("flags Placed and Confirmed orders past the threshold, counted from when they entered that status", () => {
    expect(waitingTooLong(order("PLACED", 30), 24, now)).toBe(30 * 3_600_000);
    expect(waitingTooLong(order("CONFIRMED", 25), 24, now)).not.toBeNull();
    expect(waitingTooLong(order("PLACED", 23), 24, now)).toBeNull();
    expect(waitingTooLong(order("SHIPPED", 100), 24, now)).toBeNull();
    expect(waitingTooLong(order("PLACED", 100), 0, now)).toBeNull();
  });

  it("reads short", () => {
    expect(formatWaited(30 * 3_600_000)).toBe("30 h");
    expect(formatWaited(75 * 3_600_000)).toBe("3 d");
  });
});
