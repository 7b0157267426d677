import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  useReactTable,
  type Header,
} from "@tanstack/react-table";
import type { KeyboardEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { ChannelTag, StatusBadge } from "../../components/ui/Badge";
import { Skeleton } from "../../components/ui/States";
import { TimeAgo } from "../../components/ui/TimeAgo";
import { SORTABLE_COLUMNS, type Order, type SortBy } from "../../lib/apiTypes";
import { formatCount, formatMoney } from "../../lib/format";
import type { OrderView } from "./orderView";

const column = createColumnHelper<Order>();

const columns = [
  column.accessor("channel", { header: "Channel", cell: (info) => <ChannelTag channel={info.getValue()} /> }),
  column.accessor("externalId", { header: "External id", cell: (info) => <OrderLink order={info.row.original} /> }),
  column.accessor("customer", {
    header: "Customer",
    cell: (info) => (
      <div className="customer-cell">
        <span>{info.getValue().name}</span>
        <span className="muted small">{info.getValue().phone}</span>
      </div>
    ),
  }),
  column.accessor((order) => order.items.reduce((sum, item) => sum + item.qty, 0), {
    id: "items",
    header: "Items",
    meta: { numeric: true },
    cell: (info) => formatCount(info.getValue()),
  }),
  column.accessor("total", {
    header: "Total",
    meta: { numeric: true },
    cell: (info) => formatMoney(info.getValue(), info.row.original.currency),
  }),
  column.accessor("status", { header: "Status", cell: (info) => <StatusBadge status={info.getValue()} /> }),
  column.accessor("placedAt", { header: "Placed", cell: (info) => <TimeAgo iso={info.getValue()} /> }),
  column.accessor("updatedAt", { header: "Updated", cell: (info) => <TimeAgo iso={info.getValue()} /> }),
];

function OrderLink({ order }: { order: Order }) {
  const location = useLocation();
  return (
    <Link className="order-link" to={{ pathname: `/orders/${order.id}`, search: location.search }}>
      {order.externalId}
    </Link>
  );
}

interface OrdersTableProps {
  orders: Order[] | undefined;
  view: OrderView;
  busy: boolean;
  onSort: (sortBy: SortBy, sortOrder: OrderView["sortOrder"]) => void;
}

/** The orders of one page; paging and sorting happen on the server. */
export function OrdersTable({ orders, view, busy, onSort }: OrdersTableProps) {
  const navigate = useNavigate();
  const location = useLocation();
  const table = useReactTable({
    data: orders ?? [],
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (order) => order.id,
    manualPagination: true,
    manualSorting: true,
    state: { sorting: [{ id: view.sortBy, desc: view.sortOrder === "desc" }] },
  });

  return (
    <div className="table-wrap" aria-busy={busy}>
      <table className={`orders-table${busy && orders ? " is-refreshing" : ""}`}>
        <caption className="visually-hidden">Orders, sorted by {view.sortBy} {view.sortOrder === "desc" ? "descending" : "ascending"}</caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
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
                  className="order-row"
                  onClick={(event) => {
                    // The link in the row handles its own clicks (and middle/ctrl clicks).
                    if ((event.target as HTMLElement).closest("a, button")) return;
                    navigate({ pathname: `/orders/${row.id}`, search: location.search });
                  }}
                >
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id} className={isNumeric(cell.column.columnDef.meta) ? "numeric" : undefined}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              ))
            : Array.from({ length: Math.min(view.limit, 10) }, (_, index) => (
                <tr key={index} className="skeleton-row" aria-hidden="true">
                  {columns.map((_, cell) => (
                    <td key={cell}>
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

/** Up and down arrows move between the rows' order links, like a list. */
function moveBetweenRows(event: KeyboardEvent<HTMLTableSectionElement>) {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const links = Array.from(event.currentTarget.querySelectorAll<HTMLAnchorElement>("a.order-link"));
  const index = links.indexOf(document.activeElement as HTMLAnchorElement);
  if (index === -1) return;
  const next = links[index + (event.key === "ArrowDown" ? 1 : -1)];
  if (next) {
    event.preventDefault();
    next.focus();
  }
}

function isNumeric(meta: unknown): boolean {
  return (meta as { numeric?: boolean } | undefined)?.numeric === true;
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
  const className = isNumeric(header.column.columnDef.meta) ? "numeric" : undefined;
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
