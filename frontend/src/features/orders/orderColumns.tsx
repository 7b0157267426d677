import { createColumnHelper, type ColumnDef, type RowData } from "@tanstack/react-table";
import { Link, useLocation } from "react-router";
import { ChannelTag, StatusBadge } from "../../components/ui/Badge";
import { TimeAgo } from "../../components/ui/TimeAgo";
import type { Order } from "../../lib/apiTypes";
import { formatCount, formatMoney, humanize } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { formatWaited, waitingTooLong } from "./waiting";

declare module "@tanstack/react-table" {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface ColumnMeta<TData extends RowData, TValue> {
    numeric?: boolean;
    /** The column's name in the column chooser (the header may be a component). */
    label?: string;
    /** Always shown: the chooser does not offer to hide it. */
    required?: boolean;
  }
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface TableMeta<TData extends RowData> {
    /** Placed or Confirmed orders older than this many hours in that status are flagged. */
    waitingHours: number;
  }
}

const column = createColumnHelper<Order>();

/**
 * Every column of the orders list, in order: the table, the phone cards and the column chooser
 * all read this one list. A column added here (a selection column, say) appears everywhere.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TanStack's own idiom for a list of columns of differing value types
export const orderColumns: ColumnDef<Order, any>[] = [
  column.accessor("channel", {
    header: "Channel",
    meta: { label: "Channel" },
    cell: (info) => <ChannelTag channel={info.getValue()} />,
  }),
  column.accessor("externalId", {
    header: "External id",
    meta: { label: "External id", required: true },
    cell: (info) => <OrderLink order={info.row.original} />,
  }),
  column.accessor("customer", {
    header: "Customer",
    meta: { label: "Customer" },
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
    meta: { numeric: true, label: "Items" },
    cell: (info) => formatCount(info.getValue()),
  }),
  column.accessor("total", {
    header: "Total",
    meta: { numeric: true, label: "Total" },
    cell: (info) => formatMoney(info.getValue(), info.row.original.currency),
  }),
  column.accessor("status", {
    header: "Status",
    meta: { label: "Status", required: true },
    cell: (info) => <StatusCell order={info.row.original} waitingHours={info.table.options.meta?.waitingHours ?? 0} />,
  }),
  column.accessor("placedAt", { header: "Placed", meta: { label: "Placed" }, cell: (info) => <TimeAgo iso={info.getValue()} /> }),
  column.accessor("updatedAt", { header: "Updated", meta: { label: "Updated" }, cell: (info) => <TimeAgo iso={info.getValue()} /> }),
];

/** The columns a user may hide, with their names. */
export const choosableColumns = orderColumns
  .filter((definition) => !definition.meta?.required)
  .map((definition) => ({ id: columnId(definition), label: definition.meta?.label ?? columnId(definition) }));

export function columnId(definition: ColumnDef<Order, unknown>): string {
  if (definition.id) return definition.id;
  return (definition as { accessorKey?: string }).accessorKey ?? "";
}

export function OrderLink({ order }: { order: Order }) {
  const location = useLocation();
  return (
    <Link className="order-link" to={{ pathname: `/orders/${order.id}`, search: location.search }}>
      {order.externalId}
    </Link>
  );
}

/** The status, and a flag when the order has waited too long in it. */
export function StatusCell({ order, waitingHours }: { order: Order; waitingHours: number }) {
  const now = useNow();
  const waited = waitingTooLong(order, waitingHours, now);
  return (
    <span className="status-cell">
      <StatusBadge status={order.status} />
      {waited !== null && (
        <span className="waiting-flag" title={`${humanize(order.status)} for ${formatWaited(waited)}, longer than ${waitingHours} h`}>
          <span aria-hidden="true">⚑ </span>
          {formatWaited(waited)}
          <span className="visually-hidden"> waiting, longer than {waitingHours} hours</span>
        </span>
      )}
    </span>
  );
}
