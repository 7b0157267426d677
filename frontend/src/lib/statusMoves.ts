import type { OrderStatus } from "./apiTypes";

/** The state machine of CONTRACT.md section 4 (with RETURNED after DELIVERED, final): where an
 * order may go next. */
const NEXT_STATUSES: Record<OrderStatus, readonly OrderStatus[]> = {
  PLACED: ["CONFIRMED", "CANCELLED"],
  CONFIRMED: ["SHIPPED", "CANCELLED"],
  SHIPPED: ["DELIVERED"],
  DELIVERED: ["RETURNED"],
  CANCELLED: [],
  RETURNED: [],
};

export function nextStatuses(status: OrderStatus): readonly OrderStatus[] {
  return NEXT_STATUSES[status];
}

/** A status nothing can follow: no admin and no channel can move the order on. */
export function isFinal(status: OrderStatus): boolean {
  return NEXT_STATUSES[status].length === 0;
}
