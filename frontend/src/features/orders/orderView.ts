import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";
import {
  CHANNELS,
  ORDER_STATUSES,
  SORTABLE_COLUMNS,
  type Channel,
  type OrderListQuery,
  type OrderStatsQuery,
  type OrderStatus,
  type SortBy,
  type SortOrder,
} from "../../lib/apiTypes";

/**
 * Everything that shapes the orders table, kept in the URL query string so a view can be
 * bookmarked and shared, and back/forward walks through earlier views.
 */
export interface OrderView {
  page: number;
  limit: number;
  channels: Channel[];
  statuses: OrderStatus[];
  search: string;
  /** Free tags the orders must all carry (the URL's repeated `tag`). */
  tags: string[];
  /** Calendar days (YYYY-MM-DD) in the viewer's time zone, inclusive; "" when open. */
  from: string;
  to: string;
  sortBy: SortBy;
  sortOrder: SortOrder;
}

export const PAGE_SIZES = [10, 20, 50, 100] as const;

export const DEFAULT_VIEW: OrderView = {
  page: 1,
  limit: 20,
  channels: [],
  statuses: [],
  search: "",
  tags: [],
  from: "",
  to: "",
  sortBy: "placedAt",
  sortOrder: "desc",
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Tags as the server keeps them: lower case, single spaces. */
export function normalizeTag(tag: string): string {
  return tag.toLowerCase().split(/\s+/).filter(Boolean).join(" ");
}

function oneOf<T extends string>(allowed: readonly T[], value: string | null): T | undefined {
  return allowed.find((candidate) => candidate === value);
}

function manyOf<T extends string>(allowed: readonly T[], values: string[]): T[] {
  return allowed.filter((candidate) => values.includes(candidate));
}

/** Reads a view from the URL, dropping anything invalid rather than failing the page. */
export function parseView(params: URLSearchParams): OrderView {
  const page = Number(params.get("page"));
  const limit = Number(params.get("limit"));
  const day = (name: string) => {
    const value = params.get(name) ?? "";
    return DAY.test(value) ? value : "";
  };
  return {
    page: Number.isInteger(page) && page >= 1 ? page : DEFAULT_VIEW.page,
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : DEFAULT_VIEW.limit,
    channels: manyOf(CHANNELS, params.getAll("channel")),
    statuses: manyOf(ORDER_STATUSES, params.getAll("status")),
    search: params.get("search")?.trim() ?? "",
    tags: [...new Set(params.getAll("tag").map(normalizeTag).filter(Boolean))],
    from: day("from"),
    to: day("to"),
    sortBy: oneOf(SORTABLE_COLUMNS, params.get("sortBy")) ?? DEFAULT_VIEW.sortBy,
    sortOrder: oneOf(["asc", "desc"] as const, params.get("sortOrder")) ?? DEFAULT_VIEW.sortOrder,
  };
}

/** The URL form of a view; defaults are left out so plain URLs stay plain. */
export function viewToParams(view: OrderView): URLSearchParams {
  const params = new URLSearchParams();
  if (view.page !== DEFAULT_VIEW.page) params.set("page", String(view.page));
  if (view.limit !== DEFAULT_VIEW.limit) params.set("limit", String(view.limit));
  for (const channel of view.channels) params.append("channel", channel);
  for (const status of view.statuses) params.append("status", status);
  if (view.search) params.set("search", view.search);
  for (const tag of view.tags) params.append("tag", tag);
  if (view.from) params.set("from", view.from);
  if (view.to) params.set("to", view.to);
  if (view.sortBy !== DEFAULT_VIEW.sortBy) params.set("sortBy", view.sortBy);
  if (view.sortOrder !== DEFAULT_VIEW.sortOrder) params.set("sortOrder", view.sortOrder);
  return params;
}

/** The API query for a view: calendar days become instants at the edges of the local day. */
export function viewToQuery(view: OrderView): OrderListQuery {
  const query: OrderListQuery = {
    page: view.page,
    limit: view.limit,
    sortBy: view.sortBy,
    sortOrder: view.sortOrder,
  };
  if (view.channels.length) query.channel = view.channels;
  if (view.statuses.length) query.status = view.statuses;
  if (view.search) query.search = view.search;
  if (view.tags.length) query.tag = view.tags;
  if (view.from) query.from = new Date(`${view.from}T00:00:00`).toISOString();
  if (view.to) query.to = new Date(`${view.to}T23:59:59.999`).toISOString();
  return query;
}

/** The filters of a view alone (no page or sort), as the stats take them. */
export function viewToFilters(view: OrderView): OrderStatsQuery {
  const { channel, status, search, from, to } = viewToQuery(view);
  return Object.fromEntries(
    Object.entries({ channel, status, search, from, to }).filter(([, value]) => value !== undefined),
  ) as OrderStatsQuery;
}

/** Whether anything narrows the view. */
export function isFiltered(view: OrderView): boolean {
  return view.channels.length > 0 || view.statuses.length > 0 || view.search !== "" || view.from !== "" || view.to !== "";
}

export interface ViewUpdateOptions {
  /** Typing should not leave one history entry per keystroke. */
  replace?: boolean;
}

export function useOrderView(): [OrderView, (patch: Partial<OrderView>, options?: ViewUpdateOptions) => void] {
  const [params, setParams] = useSearchParams();
  const key = params.toString();
  // A new URLSearchParams object arrives on every render; its string is its identity.
  const view = useMemo(() => parseView(new URLSearchParams(key)), [key]);

  const update = useCallback(
    (patch: Partial<OrderView>, options: ViewUpdateOptions = {}) => {
      setParams(
        (current) => {
          const previous = parseView(current);
          const changesResults = Object.keys(patch).some((name) => name !== "page");
          // Any change of filter, sort or size starts again from the first page.
          const next = { ...previous, ...(changesResults ? { page: 1 } : {}), ...patch };
          return viewToParams(next);
        },
        { replace: options.replace ?? false },
      );
    },
    [setParams],
  );

  return [view, update];
}
