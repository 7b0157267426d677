import { toOrderNotice } from "../features/events/orderEvents";
import { EventStreamParser, type ServerSentEvent } from "./sse";

function parse(chunks: string[]): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const parser = new EventStreamParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

describe("event stream parser", () => {
  it("reassembles events split anywhere across chunks", () => {
    const events = parse(["event: order.cre", "ated\nid: 7\ndata: {\"a\"", ":1}\r", "\n\r\n: keep-alive\n\ndata: x\ndata: y\n\n"]);
    expect(events).toEqual([
      { event: "order.created", data: '{"a":1}' },
      { event: "message", data: "x\ny" },
    ]);
  });

  it("waits for the blank line before dispatching", () => {
    expect(parse(["data: incomplete\n"])).toEqual([]);
  });
});

describe("order notices", () => {
  it("reads created and status-changed order events", () => {
    expect(toOrderNotice("message", JSON.stringify({ eventType: "order.created", order: { id: "o1", channel: "amazon" } }))).toEqual({
      kind: "created",
      orderId: "o1",
      order: { id: "o1", channel: "amazon" },
    });
    expect(toOrderNotice("order.status_changed", JSON.stringify({ orderId: "o2", status: "SHIPPED" }))).toEqual({
      kind: "changed",
      orderId: "o2",
      status: "SHIPPED",
    });
  });

  it("ignores heartbeats and anything that is not an order event", () => {
    expect(toOrderNotice("ping", "{}")).toBeNull();
    expect(toOrderNotice("message", "not json")).toBeNull();
    expect(toOrderNotice("user.created", JSON.stringify({ orderId: "o" }))).toBeNull();
  });
});
