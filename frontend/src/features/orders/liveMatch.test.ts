import type { OrderEventNotice } from "../events/orderEvents";
import { makeOrder } from "../../test/fixtures";
import { noticeMatchesView } from "./liveMatch";
import { DEFAULT_VIEW } from "./orderView";

const created = (overrides: Parameters<typeof makeOrder>[0]): OrderEventNotice => {
  const order = makeOrder(overrides);
  return { kind: "created", orderId: order.id, order };
};

describe("which events a view announces", () => {
  it("counts a new order only when the view's filters let it through", () => {
    const website = { ...DEFAULT_VIEW, channels: ["website" as const] };
    expect(noticeMatchesView(created({ channel: "website" }), website, new Set())).toBe(true);
    expect(noticeMatchesView(created({ id: "o2", channel: "amazon" }), website, new Set())).toBe(false);
    const placed = { ...DEFAULT_VIEW, statuses: ["CONFIRMED" as const] };
    expect(noticeMatchesView(created({ status: "PLACED" }), placed, new Set())).toBe(false);
  });

  it("searches a new order where the server would: ids, customer, SKUs and item names, ignoring case", () => {
    const view = (search: string) => ({ ...DEFAULT_VIEW, search });
    expect(noticeMatchesView(created({}), view("asha"), new Set())).toBe(true);
    expect(noticeMatchesView(created({}), view("ring-01"), new Set())).toBe(true);
    expect(noticeMatchesView(created({}), view("web-10"), new Set())).toBe(true);
    expect(noticeMatchesView(created({}), view("priya"), new Set())).toBe(false);
  });

  it("keeps to the date range", () => {
    const view = { ...DEFAULT_VIEW, from: "2026-11-21", to: "2026-11-22" };
    expect(noticeMatchesView(created({ placedAt: "2026-11-20T10:00:00Z" }), view, new Set())).toBe(false);
    expect(noticeMatchesView(created({ placedAt: "2026-11-21T12:00:00" }), view, new Set())).toBe(true);
  });

  it("counts a change of an order on screen, or one entering a status-only view", () => {
    const changed: OrderEventNotice = { kind: "changed", orderId: "o9", status: "SHIPPED" };
    expect(noticeMatchesView(changed, DEFAULT_VIEW, new Set(["o9"]))).toBe(true);
    expect(noticeMatchesView(changed, DEFAULT_VIEW, new Set(["o1"]))).toBe(false);
    expect(noticeMatchesView(changed, { ...DEFAULT_VIEW, statuses: ["SHIPPED"] }, new Set())).toBe(true);
    expect(noticeMatchesView(changed, { ...DEFAULT_VIEW, statuses: ["SHIPPED"], channels: ["amazon"] }, new Set())).toBe(false);
  });
});
