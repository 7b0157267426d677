import { useState } from "react";
import { ORDER_STATUSES, type OrderStatus } from "../../lib/apiTypes";
import { describeError } from "../../lib/errors";
import { formatCount, humanize } from "../../lib/format";
import type { OrderView } from "../orders/orderView";
import { JobProgress } from "./JobProgress";
import { useBulkMove } from "./queries";
import type { Selection } from "./selection";
import { apiView, type BulkMoveResult } from "./types";

const REASONS: Record<string, string> = {
  already_final: "already final",
  invalid_transition: "not an allowed move",
  concurrent_change: "changed meanwhile",
  order_not_found: "not found",
};

/** Moves the picked orders, or all orders matching the view (a background job), at once. */
export function BulkBar({
  selection,
  view,
  pageIds,
  total,
}: {
  selection: Selection;
  view: OrderView;
  pageIds: string[];
  total: number;
}) {
  const [status, setStatus] = useState<OrderStatus>("CONFIRMED");
  const [result, setResult] = useState<BulkMoveResult>();
  const [jobId, setJobId] = useState<string>();
  const move = useBulkMove();
  const count = selection.allMatching ? total : selection.selected.size;
  const wholePage = pageIds.length > 0 && pageIds.every((id) => selection.selected.has(id));

  const submit = () => {
    setResult(undefined);
    const target = selection.allMatching ? { view: apiView(view) } : { orderIds: [...selection.selected] };
    move.mutate(
      { status, target },
      {
        onSuccess: (answer) => {
          if (answer.result) setResult(answer.result);
          if (answer.job) setJobId(answer.job.id);
          selection.clear();
        },
      },
    );
  };

  return (
    <section className="bulk-bar" aria-label="Bulk actions">
      {count > 0 && (
        <div className="bulk-bar-line">
          <span className="strong">
            {selection.allMatching ? `All ${formatCount(total)} matching this view` : `${formatCount(count)} selected`}
          </span>
          {wholePage && !selection.allMatching && total > pageIds.length && (
            <button type="button" className="button button-quiet" onClick={selection.selectAllMatching}>
              Select all {formatCount(total)} matching this view
            </button>
          )}
          <label className="field field-inline">
            <span className="field-label">Move to</span>
            <select value={status} onChange={(event) => setStatus(event.target.value as OrderStatus)}>
              {ORDER_STATUSES.map((option) => (
                <option key={option} value={option}>
                  {humanize(option)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="button button-primary" disabled={move.isPending} onClick={submit}>
            Move {formatCount(count)} {count === 1 ? "order" : "orders"}
          </button>
          <button type="button" className="button button-quiet" onClick={selection.clear}>
            Clear
          </button>
        </div>
      )}
      {move.isError && <p className="form-error">{describeError(move.error)}</p>}
      {result && (
        <div className="bulk-result" role="status">
          <p>
            {formatCount(result.moved.length)} moved, {formatCount(result.refused.length)} refused.
          </p>
          {result.refused.length > 0 && (
            <ul className="small">
              {result.refused.map((refusal) => (
                <li key={refusal.orderId}>
                  {refusal.orderId}: {REASONS[refusal.code] ?? refusal.code}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {jobId && <JobProgress id={jobId} label="Bulk move" />}
    </section>
  );
}
