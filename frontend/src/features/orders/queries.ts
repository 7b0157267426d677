import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { unwrap } from "../../lib/api";
import { useOncePerAction } from "../../lib/oncePerAction";
import { isApiError } from "../../lib/errors";
import type { Order, OrderListQuery, OrderStatsQuery, OrderStatus, Shipment } from "../../lib/apiTypes";
import { useApi } from "../../lib/services";

export const orderKeys = {
  all: ["orders"] as const,
  lists: () => [...orderKeys.all, "list"] as const,
  list: (query: OrderListQuery) => [...orderKeys.lists(), query] as const,
  detail: (id: string) => [...orderKeys.all, "detail", id] as const,
  stats: () => [...orderKeys.all, "stats"] as const,
  statsFor: (filters: OrderStatsQuery) => [...orderKeys.stats(), filters] as const,
};

// Set by "show the new orders": the lists fetched next ask the gateway for an answer from now
// rather than its cached copy, which may be from before those orders arrived.
let freshListsWanted = false;

export function wantFreshLists() {
  freshListsWanted = true;
}

export function useOrderList(query: OrderListQuery) {
  const api = useApi();
  return useQuery({
    queryKey: orderKeys.list(query),
    queryFn: ({ signal }) => {
      const headers = freshListsWanted ? { "Cache-Control": "no-cache" } : undefined;
      freshListsWanted = false;
      return unwrap(api.GET("/api/orders", { params: { query }, signal, headers }));
    },
    // The old page stays on screen while the next one loads, so the table does not flash.
    placeholderData: keepPreviousData,
  });
}

/** An order with the statuses the server's state machine lets an admin move it to next. */
export type OrderWithMoves = Order & { allowedMoves: OrderStatus[] };

function withMoves(body: { order: Order; allowedMoves: OrderStatus[] }): OrderWithMoves {
  return { ...body.order, allowedMoves: body.allowedMoves };
}

export function useOrder(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: orderKeys.detail(id),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/orders/{order_id}", { params: { path: { order_id: id } }, signal })).then(withMoves),
  });
}

/** The counts of the orders the filters let through (all orders without filters). */
export function useOrderStats(filters: OrderStatsQuery) {
  const api = useApi();
  return useQuery({
    queryKey: orderKeys.statsFor(filters),
    queryFn: ({ signal }) => unwrap(api.GET("/api/orders/stats", { params: { query: filters }, signal })),
    placeholderData: keepPreviousData,
  });
}

export interface StatusMove {
  status: OrderStatus;
  note?: string;
  /** Carrier and tracking number, when marking the order shipped. */
  shipment?: Shipment;
}

/** A status move; the caches are refreshed from the server afterwards (no optimistic guess). */
export function useMoveStatus(id: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  const send = useCallback(
    ({ status, note, shipment }: StatusMove, key: string) =>
      unwrap(
        api.PATCH("/api/orders/{order_id}/status", {
          params: { path: { order_id: id } },
          body: { status, ...(note ? { note } : {}), ...(shipment ? { shipment } : {}) },
          headers: { "Idempotency-Key": key },
        }),
      ).then(withMoves),
    [api, id],
  );
  // A double click sends one request; a retry carries the same key (applied once).
  const moveOnce = useOncePerAction(send);
  return useMutation({
    mutationFn: moveOnce,
    onSuccess: (order) => {
      queryClient.setQueryData(orderKeys.detail(id), order);
      return queryClient.invalidateQueries({ queryKey: orderKeys.all });
    },
    onError: (error) => {
      // Someone else moved the order first: show what it is now.
      if (isApiError(error, 409)) void queryClient.invalidateQueries({ queryKey: orderKeys.detail(id) });
    },
  });
}

/** The detail is replaced by the server's answer and every list refetched (no optimistic guess). */
function useOrderWrite<Input>(id: string, write: (input: Input) => Promise<OrderWithMoves>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: write,
    onSuccess: (order) => {
      queryClient.setQueryData(orderKeys.detail(id), order);
      return queryClient.invalidateQueries({ queryKey: orderKeys.all });
    },
  });
}

export function useAddNote(id: string) {
  const api = useApi();
  const send = useCallback(
    (text: string, key: string) =>
      unwrap(
        api.POST("/api/orders/{order_id}/notes", {
          params: { path: { order_id: id } },
          body: { text },
          headers: { "Idempotency-Key": key },
        }),
      ).then(withMoves),
    [api, id],
  );
  // A double click on "Add note" adds the note once.
  return useOrderWrite(id, useOncePerAction(send));
}

export function useChangeTags(id: string) {
  const api = useApi();
  return useOrderWrite(id, (change: { add?: string[]; remove?: string[] }) =>
    unwrap(api.PATCH("/api/orders/{order_id}/tags", { params: { path: { order_id: id } }, body: change })).then(withMoves),
  );
}

export function useCustomerOrders(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: [...orderKeys.detail(id), "customer-orders"],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/orders/{order_id}/customer-orders", { params: { path: { order_id: id } }, signal })),
  });
}

/** The tags orders carry, most used first, with how many orders carry each (the tag picker). */
export function useTagsInUse() {
  const api = useApi();
  return useQuery({
    queryKey: [...orderKeys.all, "tags"] as const,
    queryFn: ({ signal }) => unwrap(api.GET("/api/orders/tags", { signal })).then((body) => body.tags),
    staleTime: 30_000,
  });
}
