import { useEffect, useMemo, useRef, useState } from "react";
import { Outlet, useSearchParams } from "react-router";
import { EmptyState, ErrorState } from "../../components/ui/States";
import { formatCount } from "../../lib/format";
import { NARROW_SCREEN, useMediaQuery } from "../../lib/useMediaQuery";
import { useSessionState } from "../../lib/services";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { BulkBar } from "../bulk/BulkBar";
import { useSelection } from "../bulk/selection";
import { apiView } from "../bulk/types";
import { ExportButton } from "../export/ExportButton";
import { SavedViews } from "../views/SavedViews";
import { useLiveUpdates } from "../events/LiveUpdates";
import type { OrderEventNotice } from "../events/orderEvents";
import { isTyping, moveOrderFocus } from "./keyboard";
import { activeFilterCount, OrderFilters } from "./OrderFilters";
import { OrderStatsBar } from "./OrderStatsBar";
import { OrdersTable } from "./OrdersTable";
import { Pagination } from "./Pagination";
import { DEFAULT_VIEW, isKeyset, useOrderView, viewToListQuery, type OrderView } from "./orderView";
import { TagFilter, TagPicker } from "./TagFilter";
import { useOrderList } from "./queries";
import { useTablePrefs } from "./tablePrefs";
import { ViewOptions } from "./ViewOptions";
import { useViewMatches } from "./viewMatches";

/** How long rows just shown by "N new orders · Show" stay highlighted. */
export const HIGHLIGHT_MS = 4_000;

export function OrdersPage() {
  const [view, update] = useOrderView();
  const query = useMemo(() => viewToListQuery(view), [view]);
  const orders = useOrderList(query);
  const page = orders.data;
  const narrow = useMediaQuery(NARROW_SCREEN);
  const [prefs, setPrefs] = useTablePrefs();
  const [highlighted, setHighlighted] = useState<ReadonlySet<string>>(new Set());
  const searchRef = useRef<HTMLInputElement>(null);
  const listTop = useRef<HTMLDivElement>(null);
  useDocumentTitle("Orders");
  usePageShortcuts(searchRef);

  // A new page of rows starts at its top, not where the last one was scrolled to.
  const shownPage = page ? `${page.pagination.page}:${page.orders[0]?.id ?? ""}` : undefined;
  const previousPage = useRef(shownPage);
  useEffect(() => {
    if (previousPage.current !== undefined && shownPage !== previousPage.current) {
      listTop.current?.scrollIntoView?.({ block: "start" });
    }
    previousPage.current = shownPage;
  }, [shownPage]);

  useEffect(() => {
    if (highlighted.size === 0) return;
    const timer = setTimeout(() => setHighlighted(new Set()), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlighted]);

  const onScreen = useMemo(() => new Set(page?.orders.map((order) => order.id) ?? []), [page]);
  const pageMissing = !!page && page.orders.length === 0 && page.pagination.total > 0 && !isKeyset(view);
  // The number of the page on screen (0 after a jump: unknown): beside a cursor the URL's,
  // else the server's echo; while the next page loads, still the one on screen. Adjusted while
  // rendering, not in an effect: React renders again before it commits, so no frame shows the
  // new rows under the last page's label.
  const [shownPageNumber, setShownPageNumber] = useState(view.page);
  const settled = !!page && !orders.isPlaceholderData;
  const settledNumber = isKeyset(view) ? view.page : (page?.pagination.page ?? view.page);
  if (settled && shownPageNumber !== settledNumber) setShownPageNumber(settledNumber);
  const { user } = useSessionState();
  const [searchParams] = useSearchParams();
  const selection = useSelection(JSON.stringify(apiView(view)));
  const isAdmin = user?.role === "admin";

  return (
    <div className="page">
      <header className="page-header">
        <h1>Orders</h1>
        {/* While a page loads there is nothing to compare against: the new rows will be in it. */}
        <UnseenOrdersNotice
          since={page && !orders.isPlaceholderData ? orders.dataUpdatedAt : Infinity}
          view={view}
          onScreen={onScreen}
          onShown={(ids) => setHighlighted(new Set(ids))}
        />
      </header>
      <OrderStatsBar view={view} onShow={update} />
      <div className="filters-row">
        <OrderFilters view={view} onChange={update} folded={narrow} searchRef={searchRef}>
          {narrow && <TagPicker view={view} onChange={update} />}
        </OrderFilters>
        <ViewOptions prefs={prefs} onChange={setPrefs} cards={narrow} />
      </div>
      <div ref={listTop} className="list-top" />
      <TagFilter view={view} onChange={update} withPicker={!narrow} />
      <div className="view-tools">
        <SavedViews
          view={view}
          onOpen={update}
          isPlainView={searchParams.toString() === ""}
          hiddenColumns={prefs.hiddenColumns}
          onColumns={(hiddenColumns) => setPrefs({ hiddenColumns })}
        />
        <ExportButton view={view} />
      </div>
      {isAdmin && page && (
        <BulkBar
          selection={selection}
          view={view}
          pageIds={page.orders.map((o) => o.id)}
          pageOrders={page.orders}
          total={page.pagination.total}
        />
      )}
      {orders.isError && !page ? (
        <ErrorState title="Could not load orders" error={orders.error} onRetry={() => void orders.refetch()} />
      ) : pageMissing ? (
        <EmptyState
          title={`There is no page ${formatCount(view.page)} in this view: it has ${formatCount(page.pagination.totalPages)} ${page.pagination.totalPages === 1 ? "page" : "pages"}`}
        >
          <button type="button" className="button" onClick={() => update({ page: page.pagination.totalPages })}>
            Go to the last page
          </button>{" "}
          <button type="button" className="button" onClick={() => update({ page: 1 })}>
            Go to the first page
          </button>
        </EmptyState>
      ) : page && page.orders.length === 0 ? (
        <NoMatches view={view} onChange={update} />
      ) : (
        <OrdersTable
          orders={page?.orders}
          view={view}
          busy={orders.isFetching}
          onSort={(sortBy, sortOrder) => update({ sortBy, sortOrder })}
          prefs={prefs}
          cards={narrow}
          highlighted={highlighted}
          selection={isAdmin && !narrow ? selection : undefined}
        />
      )}
      {orders.isError && page && (
        <ErrorState title="Could not refresh orders" error={orders.error} onRetry={() => void orders.refetch()} />
      )}
      {page && page.pagination.total > 0 && !pageMissing && (
        <Pagination
          // The label describes the rows on screen: while the next page loads, the last one's.
          total={page.pagination.total}
          totalPages={page.pagination.totalPages}
          totalIsEstimate={page.pagination.totalIsEstimate}
          page={shownPageNumber}
          shown={page.orders.length}
          limit={page.pagination.limit}
          wantedLimit={view.limit}
          nextCursor={page.pagination.nextCursor}
          prevCursor={page.pagination.prevCursor}
          lastCursor={page.pagination.lastCursor}
          sortBy={view.sortBy}
          loading={orders.isPlaceholderData}
          onMove={(move) => update(move)}
          onLimit={(limit) => update({ limit })}
        />
      )}
      <Outlet />
    </div>
  );
}

/** What to try when nothing matches: it depends on what narrowed the view. */
function NoMatches({ view, onChange }: { view: OrderView; onChange: (patch: Partial<OrderView>) => void }) {
  const filters = activeFilterCount(view);
  if (view.search && filters === 0) {
    return (
      <EmptyState title={`No orders match “${view.search}”`}>
        <p>Search looks in order ids, external ids, customer names, phones and emails, SKUs and item names. Check the spelling or try part of it.</p>
        <button type="button" className="button" onClick={() => onChange({ search: "" })}>
          Clear the search
        </button>
      </EmptyState>
    );
  }
  if (filters === 0) {
    return <EmptyState title="No orders yet">Orders appear here as soon as a channel sends them.</EmptyState>;
  }
  return (
    <EmptyState title={view.search ? `No orders match “${view.search}” with these filters` : "No orders match these filters"}>
      <p>Try removing a filter{view.from || view.to ? " or widening the date range" : ""}.</p>
      <button
        type="button"
        className="button"
        onClick={() =>
          onChange({
            channels: DEFAULT_VIEW.channels,
            statuses: DEFAULT_VIEW.statuses,
            tags: DEFAULT_VIEW.tags,
            from: DEFAULT_VIEW.from,
            to: DEFAULT_VIEW.to,
          })
        }
      >
        Remove the filters{view.search ? ", keep the search" : ""}
      </button>
    </EmptyState>
  );
}

/** `/` focuses the search; `j` and `k` walk the orders (unless the user is typing or a drawer is open). */
function usePageShortcuts(searchRef: React.RefObject<HTMLInputElement | null>) {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || isTyping(event) || document.querySelector("[aria-modal='true']")) return;
      if (event.key === "/") {
        event.preventDefault();
        searchRef.current?.focus();
        searchRef.current?.select();
      } else if (event.key === "j" || event.key === "k") {
        if (moveOrderFocus(event.key === "j" ? 1 : -1)) event.preventDefault();
      }
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [searchRef]);
}

/**
 * Whether a change is worth announcing: the order is on screen, or (the view is narrowed by
 * statuses alone) it moved into one of them. Only the status named by the event is compared:
 * any other filter would need the order, so such views announce changes of rows on screen only.
 */
function changeConcernsView(notice: OrderEventNotice, view: OrderView, onScreen: ReadonlySet<string>): boolean {
  if (onScreen.has(notice.orderId)) return true;
  const onlyStatuses =
    view.statuses.length > 0 && !view.channels.length && !view.search && !view.tags.length && !view.from && !view.to;
  return onlyStatuses && view.statuses.some((status) => status === notice.status);
}

function UnseenOrdersNotice({
  since,
  view,
  onScreen,
  onShown,
}: {
  since: number;
  view: OrderView;
  onScreen: ReadonlySet<string>;
  onShown: (createdIds: string[]) => void;
}) {
  const { unseenSince, showUnseen } = useLiveUpdates();
  // Whether a new order belongs to this view is the server's answer, from the list's own filters.
  const inView = useViewMatches(view, unseenSince(since).createdIds);
  const { created, changed, createdIds } = unseenSince(since, (notice) =>
    notice.kind === "created" ? inView.has(notice.orderId) : changeConcernsView(notice, view, onScreen),
  );
  const parts = [
    created > 0 && `${created} new ${created === 1 ? "order" : "orders"}`,
    changed > 0 && `${changed} updated ${changed === 1 ? "order" : "orders"}`,
  ].filter(Boolean);
  return (
    <div className="live-notice-slot" aria-live="polite">
      {parts.length > 0 && (
        <button
          type="button"
          className="live-notice"
          onClick={() => {
            onShown(createdIds);
            showUnseen();
          }}
        >
          <span className="dot dot-live" aria-hidden="true" />
          {parts.join(", ")} · <span className="live-notice-action">Show</span>
        </button>
      )}
    </div>
  );
}
