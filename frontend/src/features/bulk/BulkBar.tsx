import { useId, useState } from "react";
import { ORDER_STATUSES, type Order, type OrderStatus } from "../../lib/apiTypes";
import { describeError, isApiError } from "../../lib/errors";
import { formatCount, humanize } from "../../lib/format";
import type { OrderView } from "../orders/orderView";
import { JobProgress } from "./JobProgress";
import { useBulkMove, useJobRefusals, type BulkMoveNeeds } from "./queries";
import { Refusals } from "./Refusals";
import type { Selection } from "./selection";
import { parseTracking, withoutTracking } from "./tracking";
import { apiView, type BulkMoveResult, type Job } from "./types";

// Where no move leads on: said in the confirmation, since such a move cannot be undone.
const FINAL: ReadonlySet<OrderStatus> = new Set<OrderStatus>(["CANCELLED", "RETURNED"]);

/** Moves the picked orders, or all orders matching the view (a background job), with what each
 * move needs (a carrier and a tracking number per order to ship, a reason to cancel) and a
 * confirmation first. */
export function BulkBar({
  selection,
  view,
  pageIds,
  pageOrders = [],
  total,
}: {
  selection: Selection;
  view: OrderView;
  pageIds: string[];
  /** The orders on the page, to match tracking numbers given by external id. */
  pageOrders?: Order[];
  total: number;
}) {
  const [status, setStatus] = useState<OrderStatus>("CONFIRMED");
  const [result, setResult] = useState<BulkMoveResult>();
  const [jobId, setJobId] = useState<string>();
  const [asking, setAsking] = useState(false);
  const move = useBulkMove();
  const count = selection.allMatching ? total : selection.selected.size;
  const wholePage = pageIds.length > 0 && pageIds.every((id) => selection.selected.has(id));
  const picked = pageOrders.filter((order) => selection.selected.has(order.id));

  const submit = (needs: BulkMoveNeeds) => {
    setResult(undefined);
    const target = selection.allMatching ? { view: apiView(view) } : { orderIds: [...selection.selected] };
    move.mutate(
      { status, target, needs },
      {
        onSuccess: (answer) => {
          if (answer.result) setResult(answer.result);
          if (answer.job) setJobId(answer.job.id);
          setAsking(false);
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
            <select
              value={status}
              onChange={(event) => {
                setStatus(event.target.value as OrderStatus);
                move.reset();
              }}
            >
              {ORDER_STATUSES.map((option) => (
                <option key={option} value={option}>
                  {humanize(option)}
                </option>
              ))}
            </select>
          </label>
          {!asking && (
            <button type="button" className="button button-primary" onClick={() => setAsking(true)}>
              Move {formatCount(count)} {count === 1 ? "order" : "orders"}…
            </button>
          )}
          <button
            type="button"
            className="button button-quiet"
            onClick={() => {
              setAsking(false);
              selection.clear();
            }}
          >
            Clear
          </button>
        </div>
      )}
      {count > 0 && asking && (
        <BulkMoveForm
          key={status}
          status={status}
          count={count}
          allMatching={selection.allMatching}
          picked={picked}
          pending={move.isPending}
          error={move.isError ? move.error : null}
          onConfirm={submit}
          onBack={() => {
            setAsking(false);
            move.reset();
          }}
        />
      )}
      {result && (
        <div className="bulk-result" role="status">
          <p>
            {formatCount(result.moved.length)} moved, {formatCount(result.refused.length)} refused.
          </p>
          <Refusals refusals={result.refused} name="bulk-move" />
        </div>
      )}
      {jobId && (
        <JobProgress id={jobId} label="Bulk move">
          {(job) => <JobRefusals job={job} />}
        </JobProgress>
      )}
    </section>
  );
}

/** A finished job's refused orders, listed (the counts alone do not say which). */
function JobRefusals({ job }: { job: Job }) {
  const finished = job.state === "succeeded" || job.state === "cancelled" || job.state === "failed";
  const refusals = useJobRefusals(job.id, finished ? job.refused : 0);
  if (!finished || job.refused === 0) return null;
  if (refusals.isError) return <p className="form-error">Could not list the refused orders: {describeError(refusals.error)}</p>;
  if (!refusals.data) return <p className="muted small">Listing the refused orders…</p>;
  return <Refusals refusals={refusals.data} name={job.id} />;
}

/** What the move needs, then a confirmation of what will happen. */
export function BulkMoveForm({
  status,
  count,
  allMatching,
  picked,
  pending,
  error,
  onConfirm,
  onBack,
}: {
  status: OrderStatus;
  count: number;
  allMatching: boolean;
  picked: Order[];
  pending: boolean;
  error: unknown;
  onConfirm: (needs: BulkMoveNeeds) => void;
  onBack: () => void;
}) {
  const ids = { note: useId(), carrier: useId(), tracking: useId(), file: useId() };
  const [note, setNote] = useState("");
  const [carrier, setCarrier] = useState("");
  const [trackingText, setTrackingText] = useState("");
  const [checked, setChecked] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const shipping = status === "SHIPPED";
  const cancelling = status === "CANCELLED";
  const tracking = parseTracking(trackingText);
  const missing = shipping && !allMatching ? withoutTracking(picked, tracking.numbers) : [];
  const problems: string[] = [];
  if (cancelling && !note.trim()) problems.push("Give a reason for cancelling: it is kept in each order's history.");
  if (shipping && !carrier.trim()) problems.push("Give the carrier.");
  if (shipping && Object.keys(tracking.numbers).length === 0) problems.push("Give a tracking number for each order.");
  if (shipping) problems.push(...tracking.problems.map((problem) => `Tracking numbers, ${problem}.`));
  if (missing.length > 0) {
    const named = missing.slice(0, 10).map((order) => order.externalId).join(", ");
    problems.push(`No tracking number for ${formatCount(missing.length)} of them: ${named}${missing.length > 10 ? "…" : ""}.`);
  }
  const orders = `${formatCount(count)} ${count === 1 ? "order" : "orders"}`;
  const needs: BulkMoveNeeds = {
    ...(note.trim() ? { note: note.trim() } : {}),
    ...(shipping ? { shipment: { carrier: carrier.trim(), trackingNumbers: tracking.numbers } } : {}),
  };
  const missingFromServer =
    isApiError(error) && error.code === "tracking_number_missing"
      ? ((error.details as { orders?: { orderId: string; externalId?: string | null }[] } | undefined)?.orders ?? [])
      : [];

  const readFile = async (file: File | undefined) => {
    if (!file) return;
    setTrackingText((await file.text()).trim());
  };

  if (confirming) {
    return (
      <div className="bulk-confirm" role="group" aria-label="Confirm the bulk move">
        <p className="strong">
          Move {orders} to {humanize(status)}
          {shipping && ` with ${carrier.trim()}`}?
        </p>
        <p className="small">
          Each order moves only if its status allows it; the others are listed as refused, with the reason.
          {FINAL.has(status)
            ? ` ${humanize(status)} is final: these orders can never be moved again. This cannot be undone.`
            : " This cannot be undone from here: each order moves on only along its allowed moves."}
        </p>
        {note.trim() && <p className="small">Note kept in each order's history: “{note.trim()}”</p>}
        {error != null && (
          <p className="form-error" role="alert">
            {describeError(error)}
          </p>
        )}
        {missingFromServer.length > 0 && (
          <ul className="small" aria-label="Orders without a tracking number">
            {missingFromServer.map((order) => (
              <li key={order.orderId}>{order.externalId ?? order.orderId}</li>
            ))}
          </ul>
        )}
        <div className="action-buttons">
          <button
            type="button"
            className={FINAL.has(status) ? "button button-danger-solid" : "button button-primary"}
            disabled={pending}
            onClick={() => onConfirm(needs)}
          >
            {pending ? "Moving…" : `Yes, move ${orders}`}
          </button>
          <button type="button" className="button" onClick={() => setConfirming(false)}>
            Back
          </button>
        </div>
      </div>
    );
  }

  return (
    <form
      className="bulk-form"
      aria-label={`Move ${orders} to ${humanize(status)}`}
      onSubmit={(event) => {
        event.preventDefault();
        setChecked(true);
        if (problems.length === 0) setConfirming(true);
      }}
    >
      {shipping && (
        <>
          <label className="field" htmlFor={ids.carrier}>
            <span className="field-label">Carrier (for all)</span>
            <input id={ids.carrier} value={carrier} maxLength={100} onChange={(event) => setCarrier(event.target.value)} />
          </label>
          <label className="field" htmlFor={ids.tracking}>
            <span className="field-label">Tracking numbers: one order per line, its id or external id then the number</span>
            <textarea
              id={ids.tracking}
              rows={4}
              value={trackingText}
              placeholder={"WEB-1001\tDL123456\nWEB-1002, DL123457"}
              onChange={(event) => setTrackingText(event.target.value)}
            />
          </label>
          <label className="field" htmlFor={ids.file}>
            <span className="field-label">…or a CSV file (order or external id, tracking number)</span>
            <input id={ids.file} type="file" accept=".csv,text/csv,text/plain" onChange={(event) => void readFile(event.target.files?.[0])} />
          </label>
          <p className="muted small">
            {formatCount(Object.keys(tracking.numbers).length)} tracking {Object.keys(tracking.numbers).length === 1 ? "number" : "numbers"} read
            {allMatching && "; the server checks that every order of the view has one before anything moves"}.
          </p>
        </>
      )}
      <label className="field" htmlFor={ids.note}>
        <span className="field-label">{cancelling ? "Reason (required, kept in each order's history)" : "Note (optional)"}</span>
        <textarea id={ids.note} rows={2} maxLength={1000} value={note} onChange={(event) => setNote(event.target.value)} />
      </label>
      {checked && problems.length > 0 && (
        <ul className="form-error" role="alert" aria-label="What is missing">
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
      <div className="action-buttons">
        <button type="submit" className="button button-primary">
          Review the move of {orders}
        </button>
        <button type="button" className="button" onClick={onBack}>
          Back
        </button>
      </div>
    </form>
  );
}
