import { flexRender, getCoreRowModel, useReactTable, type Header, type Row, type VisibilityState } from "@tanstack/react-table";
import { useMemo, type KeyboardEvent } from "react";
import { useLocation, useNavigate } from "react-router";
import { ChannelTag } from "../../components/ui/Badge";
import { Skeleton } from "../../components/ui/States";
import { TimeAgo } from "../../components/ui/TimeAgo";
import { SORTABLE_COLUMNS, type Order, type SortBy } from "../../lib/apiTypes";
import { formatMoney } from "../../lib/format";
import { moveOrderFocus } from "./keyboard";
import { OrderLink, orderColumns, StatusCell } from "./orderColumns";
import { SelectAllCell, SelectCell } from "../bulk/SelectCells";
import type { Selection } from "../bulk/selection";
import type { OrderView } from "./orderView";
import type { TablePrefs } from "./tablePrefs";

interface OrdersTableProps {
  orders: Order[] | undefined;
  view: OrderView;
  busy: boolean;
  onSort: (sortBy: SortBy, sortOrder: OrderView["sortOrder"]) => void;
  prefs: TablePrefs;
  /** Cards instead of a table (phones). */
  cards?: boolean;
  /** Orders to highlight for a moment (just shown by "N new orders · Show"). */
  highlighted?: ReadonlySet<string>;
  /** Admins pick orders for a bulk move: a checkbox leads each row. */
  selection?: Selection;
}

/** The orders of one page; paging and sorting happen on the server. */
export function OrdersTable({ orders, view, busy, onSort, prefs, cards = false, highlighted, selection }: OrdersTableProps) {
  const navigate = useNavigate();
  const location = useLocation();
  const columnVisibility = useMemo<VisibilityState>(
    () => Object.fromEntries(prefs.hiddenColumns.map((id) => [id, false])),
    [prefs.hiddenColumns],
  );
  const table = useReactTable({
    data: orders ?? [],
    columns: orderColumns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (order) => order.id,
    manualPagination: true,
    manualSorting: true,
    meta: { waitingHours: prefs.waitingHours },
    state: { sorting: [{ id: view.sortBy, desc: view.sortOrder === "desc" }], columnVisibility },
  });
  const open = (row: Row<Order>) => navigate({ pathname: `/orders/${row.id}`, search: location.search });
  const rowClass = (row: Row<Order>, base: string) => `${base}${highlighted?.has(row.id) ? " is-new" : ""}`;
  const refreshing = busy && !!orders;

  if (cards) {
    return (
      <div id="orders-list" tabIndex={-1} aria-busy={busy} className={refreshing ? "is-refreshing" : undefined}>
        <ul className="order-cards" aria-label="Orders" onKeyDown={moveBetweenRows}>
          {orders
            ? table.getRowModel().rows.map((row) => (
                <li key={row.id} className={rowClass(row, "order-card")}>
                  <div className="order-card-top">
                    <OrderLink order={row.original} />
                    <span className="order-card-total">{formatMoney(row.original.total, row.original.currency)}</span>
                  </div>
                  <div className="order-card-middle">
                    <span>{row.original.customer.name}</span>
                    <StatusCell order={row.original} waitingHours={prefs.waitingHours} />
                  </div>
                  <div className="order-card-bottom muted small">
                    <ChannelTag channel={row.original.channel} /> · placed <TimeAgo iso={row.original.placedAt} />
                  </div>
                </li>
              ))
            : Array.from({ length: 4 }, (_, index) => (
                <li key={index} className="order-card" aria-hidden="true">
                  <Skeleton width="medium" />
                  <Skeleton width="long" />
                </li>
              ))}
        </ul>
      </div>
    );
  }

  return (
    <div id="orders-list" tabIndex={-1} className="table-wrap" aria-busy={busy}>
      <table className={`orders-table density-${prefs.density}${refreshing ? " is-refreshing" : ""}`}>
        <caption className="visually-hidden">
          Orders, sorted by {view.sortBy} {view.sortOrder === "desc" ? "descending" : "ascending"}
        </caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {selection && <SelectAllCell selection={selection} ids={orders?.map((o) => o.id) ?? []} />}
              {group.headers.map((header) => (
                <HeaderCell key={header.id} header={header} view={view} onSort={onSort} />
              ))}
            </tr>
          ))}
        </thead>
        <tbody onKeyDown={moveBetweenRows}>
          {orders
            ? table.getRowModel().rows.map((row) => (
                <tr
                  key={row.id}
                  className={rowClass(row, "order-row")}
                  onClick={(event) => {
                    // The link in the row handles its own clicks (and middle/ctrl clicks).
                    if ((event.target as HTMLElement).closest("a, button, input, label")) return;
                    open(row);
                  }}
                >
                  {selection && <SelectCell selection={selection} order={row.original} />}
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id} className={cell.column.columnDef.meta?.numeric ? "numeric" : undefined}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              ))
            : Array.from({ length: Math.min(view.limit, 10) }, (_, index) => (
                <tr key={index} className="skeleton-row" aria-hidden="true">
                  {selection && <td />}
                  {table.getVisibleLeafColumns().map((leaf, cell) => (
                    <td key={leaf.id}>
                      <Skeleton width={cell % 3 === 0 ? "short" : "medium"} />
                    </td>
                  ))}
                </tr>
              ))}
        </tbody>
      </table>
    </div>
  );
}

/** Up and down arrows (and j/k, page-wide) move between the orders' links, like a list. */
function moveBetweenRows(event: KeyboardEvent<HTMLElement>) {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  if (!(document.activeElement as HTMLElement | null)?.classList.contains("order-link")) return;
  if (moveOrderFocus(event.key === "ArrowDown" ? 1 : -1)) event.preventDefault();
}

function HeaderCell({
  header,
  view,
  onSort,
}: {
  header: Header<Order, unknown>;
  view: OrderView;
  onSort: OrdersTableProps["onSort"];
}) {
  const label = flexRender(header.column.columnDef.header, header.getContext());
  const className = header.column.columnDef.meta?.numeric ? "numeric" : undefined;
  const sortable = SORTABLE_COLUMNS.find((name) => name === header.column.id);
  if (!sortable) {
    return (
      <th scope="col" className={className}>
        {label}
      </th>
    );
  }
  const active = view.sortBy === sortable;
  const ariaSort = active ? (view.sortOrder === "asc" ? "ascending" : "descending") : "none";
  return (
    <th scope="col" className={className} aria-sort={ariaSort}>
      <button
        type="button"
        className={`sort-button${active ? " is-active" : ""}`}
        onClick={() => onSort(sortable, active && view.sortOrder === "desc" ? "asc" : "desc")}
      >
        {label}
        <span className="sort-icon" aria-hidden="true">
          {active ? (view.sortOrder === "asc" ? "▲" : "▼") : "↕"}
        </span>
      </button>
    </th>
  );
}
