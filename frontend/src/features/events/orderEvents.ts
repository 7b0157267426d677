import type { components } from "../../api/schema";
import { EventStreamParser, readEventStream } from "../../lib/sse";
import type { Session } from "../../lib/session";

type StreamSchemas = components["schemas"];
/** The stream's event names and data, generated from the API document (`GET /api/events`). */
export type StreamEventName = StreamSchemas["StreamEventName"];
export type OrderChange = StreamSchemas["OrderChange"];
export type OrdersChanged = StreamSchemas["OrdersChanged"];
export type StreamReset = StreamSchemas["StreamReset"];

/** What the SPA needs from one order created or changed. */
export interface OrderEventNotice {
  kind: OrderChange["kind"];
  orderId: string;
  /** The status it has now, when the change was a status change or a creation. */
  status?: string;
}

export type StreamState = "connecting" | "live" | "reconnecting";

const ORDERS_CHANGED: StreamEventName = "orders.changed";
const RESET: StreamEventName = "reset";

/**
 * Reads an `orders.changed` event's data as notices, one per change, oldest first. Anything else
 * (other events, data that does not parse) gives none.
 */
export function toOrderNotices(sseEvent: string, data: string): OrderEventNotice[] {
  if (sseEvent !== ORDERS_CHANGED) return [];
  let payload: Partial<OrdersChanged>;
  try {
    payload = JSON.parse(data) as Partial<OrdersChanged>;
  } catch {
    return [];
  }
  if (typeof payload !== "object" || payload === null || !Array.isArray(payload.changes)) return [];
  return payload.changes
    .filter((change) => typeof change?.orderId === "string")
    .map(({ orderId, kind, status }) => ({
      kind: kind === "created" ? "created" : "changed",
      orderId,
      ...(typeof status === "string" ? { status } : {}),
    }));
}

export interface OrderEventStreamOptions {
  session: Session;
  baseUrl: string;
  /** The changes of one message (the gateway sends at most one a second). */
  onNotices: (notices: OrderEventNotice[]) => void;
  /** Changes were missed that the gateway cannot replay: refetch once. */
  onReset: () => void;
  onState: (state: StreamState) => void;
  signal: AbortSignal;
  /** Backoff bounds between reconnects. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Keeps one event stream open until `signal` aborts, reconnecting with backoff. A reconnect
 * sends the last event id back (`Last-Event-ID`), so the gateway replays what was missed.
 */
export async function followOrderEvents(options: OrderEventStreamOptions): Promise<void> {
  const { session, baseUrl, onNotices, onReset, onState, signal } = options;
  const minDelay = options.minDelayMs ?? 1_000;
  const maxDelay = options.maxDelayMs ?? 30_000;
  let lastEventId: string | undefined;
  const parser = new EventStreamParser(({ event, data, id }) => {
    if (id) lastEventId = id;
    if (event === RESET) onReset();
    const notices = toOrderNotices(event, data);
    if (notices.length > 0) onNotices(notices);
  });
  let delay = minDelay;
  onState("connecting");
  while (!signal.aborted) {
    try {
      const token = await session.validAccessToken();
      if (!token) return;
      const headers: Record<string, string> = {
        Accept: "text/event-stream",
        Authorization: `Bearer ${token}`,
      };
      if (lastEventId) headers["Last-Event-ID"] = lastEventId;
      const response = await fetch(`${baseUrl}/api/events`, { headers, signal, cache: "no-store" });
      if (response.status === 401) {
        if (await session.refresh(token)) continue;
        if (!session.user) return;
      }
      if (response.ok && response.body) {
        onState("live");
        delay = minDelay;
        await readEventStream(response.body, parser);
      }
    } catch {
      if (signal.aborted) return;
    }
    onState("reconnecting");
    await sleep(delay, signal);
    delay = Math.min(delay * 2, maxDelay);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
