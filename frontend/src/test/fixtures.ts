import type { Order, OrderPage, OrderStats, OrderStatus, User } from "../lib/apiTypes";

/** What the orders service answers for one order: the order and its allowed moves (the server's
 * state machine; this copy only stands in for the server in tests). */
export function orderEnvelope(order: Order, allowedMoves?: OrderStatus[]) {
  const served: Record<OrderStatus, OrderStatus[]> = {
    PLACED: ["CONFIRMED", "CANCELLED"],
    CONFIRMED: ["SHIPPED", "CANCELLED"],
    SHIPPED: ["DELIVERED"],
    DELIVERED: ["RETURNED"],
    CANCELLED: [],
    RETURNED: [],
  };
  return { order, allowedMoves: allowedMoves ?? served[order.status] };
}

export function makeOrder(overrides: Partial<Order> = {}): Order {
  const placedAt = overrides.placedAt ?? "2026-11-20T10:00:00Z";
  return {
    id: "ord_1",
    externalId: "WEB-1001",
    channel: "website",
    customer: { name: "Asha Rao", phone: "+919800000001", email: "asha@example.com" },
    items: [
      { sku: "RING-01", name: "Silver ring", qty: 2, price: 1499 },
      { sku: "EAR-07", name: "Hoop earrings", qty: 1, price: 899 },
    ],
    total: 3897,
    currency: "INR",
    status: "PLACED",
    statusHistory: [{ status: "PLACED", changedAt: placedAt, changedBy: null, source: "channel", note: null }],
    placedAt,
    createdAt: placedAt,
    updatedAt: placedAt,
    ...overrides,
  };
}

export function makePage(orders: Order[], page = 1, limit = 20, total = orders.length): OrderPage {
  const totalPages = Math.max(1, Math.ceil(total / limit));
  return {
    orders,
    pagination: {
      page,
      limit,
      total,
      totalPages,
      totalIsEstimate: false,
      nextCursor: page < totalPages ? `next${page}` : null,
      prevCursor: page > 1 ? `prev${page}` : null,
      lastCursor: "last",
    },
  };
}

export const STATS: OrderStats = {
  totalOrders: 3,
  byChannel: { website: 1, amazon: 1, blinkit: 1 },
  byStatus: { PLACED: 2, CONFIRMED: 1 },
  revenue: [{ channel: "website", currency: "INR", amount: 3897 }],
};

export const ADMIN: User = { id: "u_admin", email: "admin@orderhub.test", role: "admin", displayName: "Asha Admin" };
export const VIEWER: User = { id: "u_viewer", email: "viewer@orderhub.test", role: "viewer", displayName: "Vik Viewer" };

/** An unsigned JWT-shaped token whose `exp` claim the session reads. */
export function fakeJwt(expiresAtMs: number, subject = "u"): string {
  const encode = (value: object) => btoa(JSON.stringify(value)).replace(/=+$/, "");
  return `${encode({ alg: "none" })}.${encode({ sub: subject, exp: Math.floor(expiresAtMs / 1000) })}.sig`;
}

/** What auth's sign-in does to the browser's cookies, as far as script can see: the readable
 * CSRF cookie (the refresh token itself is HttpOnly, out of script's reach). */
export function setSessionCookie(csrf = "csrf-1"): void {
  document.cookie = `orderhub_csrf=${csrf}; path=/`;
}
