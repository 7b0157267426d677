import { EventStreamParser, readEventStream } from "../../lib/sse";
import type { Session } from "../../lib/session";

/** What the SPA needs from one public order event (CONTRACT.md section 5). */
export interface OrderEventNotice {
  kind: "created" | "changed";
  orderId: string;
  /** The new order as the event carries it (created events), to match it against a view. */
  order?: NoticedOrder;
  /** The status it moved to (status-changed events). */
  status?: string;
}

/** The part of an event's order a view's filters look at; every field may be missing. */
export interface NoticedOrder {
  id?: string;
  externalId?: string;
  channel?: string;
  status?: string;
  placedAt?: string;
  customer?: { name?: string; phone?: string; email?: string | null };
  items?: { sku?: string; name?: string }[];
}

export type StreamState = "connecting" | "live" | "reconnecting";

/**
 * Reads a server-sent event as an order event. The payload is the order event itself
 * (`eventType` plus `order` or `orderId`); the SSE `event:` name is used when the payload lacks
 * a type. Anything else (heartbeats, unknown types) is ignored.
 */
export function toOrderNotice(sseEvent: string, data: string): OrderEventNotice | null {
  let payload: { eventType?: unknown; order?: { id?: unknown }; orderId?: unknown; status?: unknown };
  try {
    payload = JSON.parse(data) as typeof payload;
  } catch {
    return null;
  }
  if (typeof payload !== "object" || payload === null) return null;
  const type = typeof payload.eventType === "string" ? payload.eventType : sseEvent;
  const orderId = payload.order?.id ?? payload.orderId;
  if (typeof orderId !== "string") return null;
  if (type === "order.created") {
    return typeof payload.order === "object" && payload.order !== null
      ? { kind: "created", orderId, order: payload.order as NoticedOrder }
      : { kind: "created", orderId };
  }
  if (type.startsWith("order.")) {
    return typeof payload.status === "string" ? { kind: "changed", orderId, status: payload.status } : { kind: "changed", orderId };
  }
  return null;
}

export interface OrderEventStreamOptions {
  session: Session;
  baseUrl: string;
  onNotice: (notice: OrderEventNotice) => void;
  onState: (state: StreamState) => void;
  signal: AbortSignal;
  /** Backoff bounds between reconnects. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** Keeps one event stream open until `signal` aborts, reconnecting with backoff. */
export async function followOrderEvents(options: OrderEventStreamOptions): Promise<void> {
  const { session, baseUrl, onNotice, onState, signal } = options;
  const minDelay = options.minDelayMs ?? 1_000;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const parser = new EventStreamParser(({ event, data }) => {
    const notice = toOrderNotice(event, data);
    if (notice) onNotice(notice);
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
