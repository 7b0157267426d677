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
  /** Keyset paging: a page reached by the server's cursor ("" = numbered paging by `page`). */
  cursor: string;
  /** A jump: the page starts at this sort value (a day, an amount, a status or a channel). */
  startAt: string;
  /** The saved view the list was opened from ("" when none). */
  savedView: string;
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
  cursor: "",
  startAt: "",
  savedView: "",
};

/** Where the list is (page, cursor, jump) rather than what it shows. */
const POSITION: readonly (keyof OrderView)[] = ["page", "cursor", "startAt"];
/** Beside the list's state: which saved view it was opened from. */
const NOT_STATE: readonly (keyof OrderView)[] = [...POSITION, "savedView"];

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const CURSOR = /^[A-Za-z0-9_-]{1,400}$/;

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
  const keyset = params.has("cursor") || params.has("startAt");
  const limit = Number(params.get("limit"));
  const day = (name: string) => {
    const value = params.get(name) ?? "";
    return DAY.test(value) ? value : "";
  };
  return {
    // Beside a cursor, page 0 says "number unknown" (after a jump).
    page: Number.isInteger(page) && page >= (keyset ? 0 : 1) && params.has("page") ? page : keyset ? 0 : DEFAULT_VIEW.page,
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : DEFAULT_VIEW.limit,
    channels: manyOf(CHANNELS, params.getAll("channel")),
    statuses: manyOf(ORDER_STATUSES, params.getAll("status")),
    search: params.get("search")?.trim() ?? "",
    tags: [...new Set(params.getAll("tag").map(normalizeTag).filter(Boolean))],
    from: day("from"),
    to: day("to"),
    sortBy: oneOf(SORTABLE_COLUMNS, params.get("sortBy")) ?? DEFAULT_VIEW.sortBy,
    sortOrder: oneOf(["asc", "desc"] as const, params.get("sortOrder")) ?? DEFAULT_VIEW.sortOrder,
    cursor: CURSOR.test(params.get("cursor") ?? "") ? (params.get("cursor") ?? "") : "",
    startAt: (params.get("startAt") ?? "").slice(0, 40),
    savedView: params.get("view") ?? "",
  };
}

/** Whether the page is reached by cursor or jump (its number may then be unknown: 0). */
export function isKeyset(view: OrderView): boolean {
  return view.cursor !== "" || view.startAt !== "";
}

/** The URL form of a view; defaults are left out so plain URLs stay plain. */
export function viewToParams(view: OrderView): URLSearchParams {
  const params = new URLSearchParams();
  const keyset = isKeyset(view);
  if (keyset ? view.page > 0 : view.page !== DEFAULT_VIEW.page) params.set("page", String(view.page));
  if (view.limit !== DEFAULT_VIEW.limit) params.set("limit", String(view.limit));
  for (const channel of view.channels) params.append("channel", channel);
  for (const status of view.statuses) params.append("status", status);
  if (view.search) params.set("search", view.search);
  for (const tag of view.tags) params.append("tag", tag);
  if (view.from) params.set("from", view.from);
  if (view.to) params.set("to", view.to);
  if (view.sortBy !== DEFAULT_VIEW.sortBy) params.set("sortBy", view.sortBy);
  if (view.sortOrder !== DEFAULT_VIEW.sortOrder) params.set("sortOrder", view.sortOrder);
  if (view.cursor) params.set("cursor", view.cursor);
  else if (view.startAt) params.set("startAt", view.startAt);
  if (view.savedView) params.set("view", view.savedView);
  return params;
}

/** The API query for a view: calendar days become instants at the edges of the local day. */
export function viewToQuery(view: OrderView): OrderListQuery {
  const query: OrderListQuery = {
    page: Math.max(view.page, 1),
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

/** The list request of a view: its query and where it is (cursor or jump). The query alone
 * (``viewToQuery``) is what exports, bulk moves and saved views take. */
export function viewToListQuery(view: OrderView): OrderListQuery {
  const query = viewToQuery(view);
  if (view.cursor) query.cursor = view.cursor;
  else if (view.startAt) query.startAt = jumpValue(view);
  return query;
}

/**
 * A jump's value as the server takes it: a calendar day becomes the instant at the near edge of
 * the local day in the sort's direction (newest first starts at the day's end).
 */
export function jumpValue(view: OrderView): string {
  if ((view.sortBy === "placedAt" || view.sortBy === "updatedAt") && DAY.test(view.startAt)) {
    const edge = view.sortOrder === "desc" ? "T23:59:59.999" : "T00:00:00";
    return new Date(`${view.startAt}${edge}`).toISOString();
  }
  return view.startAt;
}

/** The filters of a view alone (no page or sort), as the stats take them: every filter the
 * table follows. */
export function viewToFilters(view: OrderView): OrderStatsQuery {
  const { channel, status, search, tag, from, to } = viewToQuery(view);
  return Object.fromEntries(
    Object.entries({ channel, status, search, tag, from, to }).filter(([, value]) => value !== undefined),
  ) as OrderStatsQuery;
}

/** Whether anything narrows the view. */
export function isFiltered(view: OrderView): boolean {
  return (
    view.channels.length > 0 ||
    view.statuses.length > 0 ||
    view.tags.length > 0 ||
    view.search !== "" ||
    view.from !== "" ||
    view.to !== ""
  );
}

/** The list's state a saved view keeps (no position, no saved view id). */
export function listState(view: OrderView): Omit<OrderView, "page" | "cursor" | "startAt" | "savedView"> {
  const state: Partial<OrderView> = { ...view };
  for (const name of NOT_STATE) delete state[name];
  return state as Omit<OrderView, "page" | "cursor" | "startAt" | "savedView">;
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
          const changesResults = Object.keys(patch).some((name) => !NOT_STATE.includes(name as keyof OrderView));
          const moves = Object.keys(patch).some((name) => POSITION.includes(name as keyof OrderView));
          // Any change of filter, sort or size starts again from the first page; a move to a
          // numbered page, a cursor or a jump replaces the others.
          const position = changesResults || moves ? { page: 1, cursor: "", startAt: "" } : {};
          const next = { ...previous, ...position, ...patch };
          return viewToParams(next);
        },
        { replace: options.replace ?? false },
      );
    },
    [setParams],
  );

  return [view, update];
}
