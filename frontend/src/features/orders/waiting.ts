import type { Order } from "../../lib/apiTypes";

/** Statuses an order should not sit in for long: someone has to act on it. */
const WAITING_STATUSES: readonly Order["status"][] = ["PLACED", "CONFIRMED"];

export const DEFAULT_WAITING_HOURS = 24;
export const WAITING_HOUR_CHOICES = [4, 12, 24, 48, 72] as const;

/** When the order entered its current status (its last history entry), in epoch ms. */
export function inStatusSince(order: Order): number {
  const last = order.statusHistory[order.statusHistory.length - 1];
  return new Date(last?.changedAt ?? order.updatedAt).getTime();
}

/** How long a Placed or Confirmed order has waited past `hours` in that status, or null. */
export function waitingTooLong(order: Order, hours: number, now: number = Date.now()): number | null {
  if (!WAITING_STATUSES.includes(order.status) || hours <= 0) return null;
  const waited = now - inStatusSince(order);
  return waited >= hours * 3_600_000 ? waited : null;
}

/** "26 h" or "3 d", for a flag that must stay short. */
export function formatWaited(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} d`;
}
