import type { NoticedOrder, OrderEventNotice } from "../events/orderEvents";
import { viewToQuery, type OrderView } from "./orderView";

/** The text the server's search looks in (CONTRACT.md: ids, customer, SKUs, item names). */
function searchableText(order: NoticedOrder): string {
  const parts = [
    order.id,
    order.externalId,
    order.customer?.name,
    order.customer?.phone,
    order.customer?.email,
    ...(order.items ?? []).flatMap((item) => [item.sku, item.name]),
  ];
  return parts.filter(Boolean).join("\n").toLowerCase();
}

/** Whether a new order would be in the view: the same filters the server applies to the list. */
export function orderMatchesView(order: NoticedOrder, view: OrderView): boolean {
  if (view.channels.length && !view.channels.some((channel) => channel === order.channel)) return false;
  if (view.statuses.length && !view.statuses.some((status) => status === order.status)) return false;
  if (view.search && !searchableText(order).includes(view.search.toLowerCase())) return false;
  const { from, to } = viewToQuery(view);
  if (from || to) {
    if (!order.placedAt) return false;
    const placed = new Date(order.placedAt).getTime();
    if (from && placed < new Date(from).getTime()) return false;
    if (to && placed > new Date(to).getTime()) return false;
  }
  return true;
}

/**
 * Whether an event changes what the current view shows: a new order only if it matches the
 * filters; a change only if the order is on screen, or (the event names no channel) if it moves
 * into the statuses a status-only view asks for.
 */
export function noticeMatchesView(notice: OrderEventNotice, view: OrderView, onScreen: ReadonlySet<string>): boolean {
  if (notice.kind === "created") return notice.order ? orderMatchesView(notice.order, view) : false;
  if (onScreen.has(notice.orderId)) return true;
  const onlyStatuses =
    view.statuses.length > 0 && !view.channels.length && !view.search && !view.from && !view.to;
  return onlyStatuses && view.statuses.some((status) => status === notice.status);
}
