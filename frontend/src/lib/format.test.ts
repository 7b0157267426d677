import { formatRelative } from "./format";

describe("relative times", () => {
  it("calls only a moment ago 'just now': a minute into an outage is not a fresh poll", () => {
    const now = Date.parse("2026-12-01T08:37:00Z");
    expect(formatRelative("2026-12-01T08:36:55Z", now)).toBe("just now");
    expect(formatRelative("2026-12-01T08:36:30Z", now)).toBe("30 seconds ago");
    expect(formatRelative("2026-12-01T08:36:00Z", now)).toBe("1 minute ago");
  });
});
