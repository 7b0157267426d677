import { DEFAULT_VIEW, isFiltered, parseView, viewToFilters, viewToListQuery, viewToParams, viewToQuery } from "./orderView";

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
      cursor: "",
      startAt: "",
      savedView: "view_1",
    };
    expect(parseView(viewToParams(view))).toEqual(view);
  });

  it("keeps a cursor and the page number beside it, or none after a jump", () => {
    const deep = { ...DEFAULT_VIEW, page: 7, cursor: "abc_-1" };
    expect(viewToParams(deep).toString()).toBe("page=7&cursor=abc_-1");
    expect(parseView(viewToParams(deep))).toEqual(deep);
    const jumped = { ...DEFAULT_VIEW, page: 0, startAt: "2026-11-01" };
    expect(viewToParams(jumped).toString()).toBe("startAt=2026-11-01");
    expect(parseView(viewToParams(jumped))).toEqual(jumped);
    expect(viewToListQuery(deep)).toMatchObject({ cursor: "abc_-1", page: 7 });
    // Exports, bulk moves and saved views take the view without its position.
    expect(viewToQuery(deep).cursor).toBeUndefined();
    expect(viewToListQuery(jumped).startAt).toBe(new Date("2026-11-01T23:59:59.999").toISOString());
  });

  it("gives the counts every filter the table follows, the tag too", () => {
    expect(viewToFilters({ ...DEFAULT_VIEW, tags: ["vip"], page: 3, cursor: "abc" })).toEqual({ tag: ["vip"] });
    expect(isFiltered({ ...DEFAULT_VIEW, tags: ["vip"] })).toBe(true);
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
