import { toOrderNotices } from "../features/events/orderEvents";
import { EventStreamParser, type ServerSentEvent } from "./sse";

function parse(chunks: string[]): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const parser = new EventStreamParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

describe("event stream parser", () => {
  it("reassembles events split anywhere across chunks", () => {
    const events = parse(["event: orders.cha", "nged\nid: 7\ndata: {\"a\"", ":1}\r", "\n\r\n: keep-alive\n\ndata: x\ndata: y\n\n"]);
    expect(events).toEqual([
      { event: "orders.changed", data: '{"a":1}', id: "7" },
      { event: "message", data: "x\ny" },
    ]);
  });

  it("waits for the blank line before dispatching", () => {
    expect(parse(["data: incomplete\n"])).toEqual([]);
  });
});

describe("order notices", () => {
  it("reads every change of an orders.changed message, oldest first", () => {
    const data = JSON.stringify({
      changes: [
        { orderId: "o1", kind: "created", eventType: "order.created", status: "PLACED" },
        { orderId: "o2", kind: "changed", eventType: "order.status_changed", status: "SHIPPED" },
        { orderId: "o3", kind: "changed", eventType: "order.note_added", status: null },
      ],
    });
    expect(toOrderNotices("orders.changed", data)).toEqual([
      { kind: "created", orderId: "o1", status: "PLACED" },
      { kind: "changed", orderId: "o2", status: "SHIPPED" },
      { kind: "changed", orderId: "o3" },
    ]);
  });

  it("ignores other events and anything that does not parse", () => {
    expect(toOrderNotices("connected", JSON.stringify({ resumed: false }))).toEqual([]);
    expect(toOrderNotices("reset", JSON.stringify({ reason: "x" }))).toEqual([]);
    expect(toOrderNotices("orders.changed", "not json")).toEqual([]);
    expect(toOrderNotices("orders.changed", JSON.stringify({ changes: "no" }))).toEqual([]);
  });
});
