import { useMemo } from "react";
import { Outlet } from "react-router";
import { EmptyState, ErrorState } from "../../components/ui/States";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { useLiveUpdates } from "../events/LiveUpdates";
import { OrderFilters } from "./OrderFilters";
import { OrderStatsBar } from "./OrderStatsBar";
import { OrdersTable } from "./OrdersTable";
import { Pagination } from "./Pagination";
import { useOrderView, viewToQuery } from "./orderView";
import { useOrderList } from "./queries";

export function OrdersPage() {
  const [view, update] = useOrderView();
  const query = useMemo(() => viewToQuery(view), [view]);
  const orders = useOrderList(query);
  const page = orders.data;
  useDocumentTitle("Orders");

  return (
    <div className="page">
      <header className="page-header">
        <h1>Orders</h1>
        {/* While a page loads there is nothing to compare against: the new rows will be in it. */}
        <UnseenOrdersNotice since={page && !orders.isPlaceholderData ? orders.dataUpdatedAt : Infinity} />
      </header>
      <OrderStatsBar onShow={update} />
      <OrderFilters view={view} onChange={update} />
      {orders.isError && !page ? (
        <ErrorState title="Could not load orders" error={orders.error} onRetry={() => void orders.refetch()} />
      ) : page && page.orders.length === 0 && page.pagination.total > 0 ? (
        <EmptyState title={`There is no page ${view.page} in this view`}>
          <button type="button" className="button" onClick={() => update({ page: 1 })}>
            Go to the first page
          </button>
        </EmptyState>
      ) : page && page.orders.length === 0 ? (
        <EmptyState title="No orders match this view">
          Try removing a filter or widening the date range.
        </EmptyState>
      ) : (
        <OrdersTable
          orders={page?.orders}
          view={view}
          busy={orders.isFetching}
          onSort={(sortBy, sortOrder) => update({ sortBy, sortOrder })}
        />
      )}
      {orders.isError && page && (
        <ErrorState title="Could not refresh orders" error={orders.error} onRetry={() => void orders.refetch()} />
      )}
      {page && page.pagination.total > 0 && (
        <Pagination
          total={page.pagination.total}
          totalPages={page.pagination.totalPages}
          page={view.page}
          limit={view.limit}
          onPage={(next) => update({ page: next })}
          onLimit={(limit) => update({ limit })}
        />
      )}
      <Outlet />
    </div>
  );
}

function UnseenOrdersNotice({ since }: { since: number }) {
  const { unseenSince, showUnseen } = useLiveUpdates();
  const { created, changed } = unseenSince(since);
  const parts = [
    created > 0 && `${created} new ${created === 1 ? "order" : "orders"}`,
    changed > 0 && `${changed} updated ${changed === 1 ? "order" : "orders"}`,
  ].filter(Boolean);
  return (
    <div className="live-notice-slot" aria-live="polite">
      {parts.length > 0 && (
        <button type="button" className="live-notice" onClick={showUnseen}>
          <span className="dot dot-live" aria-hidden="true" />
          {parts.join(", ")} · <span className="live-notice-action">Show</span>
        </button>
      )}
    </div>
  );
}
