import { DEFAULT_VIEW, parseView, viewToParams } from "./orderView";

describe("order view in the URL", () => {
  it("round-trips a full view", () => {
    const view = {
      page: 4,
      limit: 50,
      channels: ["amazon" as const],
      statuses: ["PLACED" as const, "CANCELLED" as const],
      search: "asha",
      tags: ["gift wrap", "vip"],
      from: "2026-11-01",
      to: "2026-11-02",
      sortBy: "updatedAt" as const,
      sortOrder: "asc" as const,
    };
    expect(parseView(viewToParams(view))).toEqual(view);
  });

  it("leaves defaults out of the URL", () => {
    expect(viewToParams(DEFAULT_VIEW).toString()).toBe("");
  });

  it("drops invalid values instead of failing", () => {
    const view = parseView(
      new URLSearchParams("page=-2&limit=7&channel=ebay&status=LOST&from=yesterday&sortBy=name&sortOrder=up"),
    );
    expect(view).toEqual(DEFAULT_VIEW);
  });
});
