import { presetOf, presetRange } from "./datePresets";

describe("date presets", () => {
  const now = new Date(2026, 11, 3, 15, 30); // 3 December 2026, local time

  it("names calendar days in the viewer's time zone", () => {
    expect(presetRange("today", now)).toEqual({ from: "2026-12-03", to: "2026-12-03" });
    expect(presetRange("yesterday", now)).toEqual({ from: "2026-12-02", to: "2026-12-02" });
    expect(presetRange("last7", now)).toEqual({ from: "2026-11-27", to: "2026-12-03" });
    expect(presetRange("thisMonth", now)).toEqual({ from: "2026-12-01", to: "2026-12-03" });
  });

  it("recognises a preset in a URL's range, and anything else as custom", () => {
    expect(presetOf("2026-11-27", "2026-12-03", now)).toBe("last7");
    expect(presetOf("", "", now)).toBe("");
    expect(presetOf("2026-11-01", "2026-11-05", now)).toBe("custom");
  });
});
