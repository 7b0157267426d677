// Types derived from the generated OpenAPI paths (src/api/schema.d.ts), by route rather than by
// schema name, so they survive the gateway naming its schemas differently.
import type { paths } from "../api/schema";

type JsonOf<T> = T extends { content: { "application/json": infer Body } } ? Body : never;
type Ok<Op> = Op extends { responses: { 200: infer R } } ? JsonOf<R> : never;

export type LoginResponse = Ok<paths["/api/auth/login"]["post"]>;
export type User = LoginResponse["user"];

export type OrderPage = Ok<paths["/api/orders"]["get"]>;
export type Order = Ok<paths["/api/orders/{order_id}"]["get"]>["order"];
export type OrderStatus = Order["status"];
export type Channel = Order["channel"];
export type StatusHistoryEntry = Order["statusHistory"][number];
export type OrderStats = Ok<paths["/api/orders/stats"]["get"]>;
export type Pipeline = Ok<paths["/api/pipeline"]["get"]>;
export type ChannelState = Ok<paths["/api/channels"]["get"]>[number];
export type UserAccount = Ok<paths["/api/users"]["get"]>["users"][number];
export type Role = UserAccount["role"];
export type Shipment = NonNullable<Order["shipment"]>;
export type OrderNote = NonNullable<Order["notes"]>[number];
export type WriteBack = NonNullable<Order["writeBack"]>;
export type CustomerOrders = Ok<paths["/api/orders/{order_id}/customer-orders"]["get"]>;
export type DeadLetterPage = Ok<paths["/api/dead-letters"]["get"]>;
export type DeadLetter = DeadLetterPage["deadLetters"][number];
export type DeadLetterState = DeadLetter["state"];

export type OrderStatsQuery = NonNullable<paths["/api/orders/stats"]["get"]["parameters"]["query"]>;
export type OrderListQuery = NonNullable<paths["/api/orders"]["get"]["parameters"]["query"]>;
export type SortBy = NonNullable<OrderListQuery["sortBy"]>;
export type SortOrder = NonNullable<OrderListQuery["sortOrder"]>;

export const CHANNELS = ["website", "amazon", "blinkit"] as const satisfies readonly Channel[];
export const ORDER_STATUSES = [
  "PLACED",
  "CONFIRMED",
  "SHIPPED",
  "DELIVERED",
  "CANCELLED",
  "RETURNED",
] as const satisfies readonly OrderStatus[];
export const SORTABLE_COLUMNS = [
  "placedAt",
  "total",
  "status",
  "channel",
  "updatedAt",
] as const satisfies readonly SortBy[];
