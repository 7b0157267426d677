import { useEffect, useId, useRef, useState } from "react";
import type { Order, OrderStatus, StatusHistoryEntry } from "../../lib/apiTypes";
import { describeError, isApiError } from "../../lib/errors";
import { formatRelative, humanize } from "../../lib/format";
import { useSessionState } from "../../lib/services";
import { useMoveStatus, type OrderWithMoves } from "./queries";
import { useUserNames, type NameOf } from "../users/names";

/** The status moves an admin may make from the order's current status: the server's list. */
export function StatusActions({ order }: { order: OrderWithMoves }) {
  const noteId = useId();
  const [note, setNote] = useState("");
  const [done, setDone] = useState<OrderStatus | null>(null);
  const [cancelling, setCancelling] = useState(false);
  // Marking shipped asks for the carrier and tracking number first.
  const carrierId = useId();
  const trackingId = useId();
  const [shipping, setShipping] = useState(false);
  const [carrier, setCarrier] = useState("");
  const [tracking, setTracking] = useState("");
  const move = useMoveStatus(order.id);
  const { user } = useSessionState();
  const choices = order.allowedMoves;
  const outcome = useRef<HTMLDivElement>(null);

  // The pressed button is gone after a move (the choices change), so keyboard focus goes to
  // the outcome instead of falling out of the drawer.
  useEffect(() => {
    if (done || move.isError) outcome.current?.focus();
  }, [done, move.isError]);

  // A colleague (or the channel) moved the order while the shipment was being typed: say so,
  // and keep what was typed rather than dropping the form.
  const overtaken =
    shipping && !choices.includes("SHIPPED") ? (
      <ShipmentOvertaken
        order={order}
        carrier={carrier}
        tracking={tracking}
        userId={user?.id}
        onDismiss={() => {
          setShipping(false);
          setCarrier("");
          setTracking("");
        }}
      />
    ) : null;

  if (choices.length === 0) {
    return (
      <section className="detail-section actions actions-final" aria-label="Status actions">
        {overtaken}
        <p className="muted">
          <span aria-hidden="true">🔒 </span>
          {humanize(order.status)} is final: this order cannot be moved again.
        </p>
        <Outcome outcomeRef={outcome} done={done} error={move.isError ? move.error : null} userId={user?.id} />
      </section>
    );
  }

  const onMove = (status: OrderStatus, text: string) => {
    if (status === "SHIPPED" && !shipping) {
      setShipping(true);
      return;
    }
    setDone(null);
    const shipment =
      status === "SHIPPED" ? { carrier: carrier.trim(), trackingNumber: tracking.trim() } : undefined;
    move.mutate(
      { status, note: text.trim() || undefined, shipment },
      {
        onSuccess: () => {
          setNote("");
          setCancelling(false);
          setShipping(false);
          setCarrier("");
          setTracking("");
          setDone(status);
        },
      },
    );
  };
  const forward = choices.filter((status) => status !== "CANCELLED");
  const canCancel = choices.includes("CANCELLED");
  const shipmentReady = carrier.trim() !== "" && tracking.trim() !== "";

  return (
    <section className="detail-section actions" aria-labelledby="actions-title">
      <h3 id="actions-title">Move to</h3>
      {overtaken}
      {cancelling ? (
        <CancelConfirm
          order={order}
          pending={move.isPending}
          onConfirm={(reason) => onMove("CANCELLED", reason)}
          onKeep={() => setCancelling(false)}
        />
      ) : (
        <>
          <label className="field" htmlFor={noteId}>
            <span className="field-label">Note (optional)</span>
          </label>
          <textarea
            id={noteId}
            rows={2}
            maxLength={500}
            value={note}
            onChange={(event) => setNote(event.target.value)}
            placeholder="Visible in the status history"
          />
          <div className="action-buttons">
            {forward.map((status) => (
              <button
                key={status}
                type="button"
                className="button button-primary"
                disabled={move.isPending}
                onClick={() => onMove(status, note)}
              >
                Mark {humanize(status).toLowerCase()}
                {FINAL_STATUSES.has(status) && <span className="button-note"> (final)</span>}
              </button>
            ))}
            {canCancel && (
              <button
                type="button"
                className="button button-danger"
                disabled={move.isPending}
                onClick={() => {
                  setDone(null);
                  setCancelling(true);
                }}
              >
                Cancel order…
              </button>
            )}
          </div>
          {shipping && choices.includes("SHIPPED") && (
            <form
              className="shipment-form"
              aria-label="Shipment"
              onSubmit={(event) => {
                event.preventDefault();
                if (shipmentReady) onMove("SHIPPED", note);
              }}
            >
              <label className="field" htmlFor={carrierId}>
                <span className="field-label">Carrier</span>
                <input
                  id={carrierId}
                  value={carrier}
                  maxLength={100}
                  required
                  autoFocus
                  onChange={(event) => setCarrier(event.target.value)}
                />
              </label>
              <label className="field" htmlFor={trackingId}>
                <span className="field-label">Tracking number</span>
                <input
                  id={trackingId}
                  value={tracking}
                  maxLength={100}
                  required
                  onChange={(event) => setTracking(event.target.value)}
                />
              </label>
              <div className="action-buttons">
                <button type="submit" className="button button-primary" disabled={!shipmentReady || move.isPending}>
                  Confirm shipped
                </button>
                <button type="button" className="button" onClick={() => setShipping(false)}>
                  Back
                </button>
              </div>
            </form>
          )}
        </>
      )}
      <Outcome outcomeRef={outcome} done={done} error={move.isError ? move.error : null} userId={user?.id} />
    </section>
  );
}

/** The shipment form of an order someone else moved meanwhile: what happened, and what was typed
 * (read-only, to copy), until dismissed. */
function ShipmentOvertaken({
  order,
  carrier,
  tracking,
  userId,
  onDismiss,
}: {
  order: Order;
  carrier: string;
  tracking: string;
  userId: string | undefined;
  onDismiss: () => void;
}) {
  const nameOf = useUserNames();
  const last = order.statusHistory.at(-1);
  const who = !last
    ? "Someone"
    : last.source === "channel"
      ? "The channel"
      : last.changedBy && last.changedBy === userId
        ? "You (in another tab or window)"
        : (nameOf(last.changedBy, last.changedByEmail) ?? "Another admin");
  const when = last ? ` ${formatRelative(last.changedAt)}` : "";
  return (
    <div className="overtaken" role="alert" aria-label="Shipment not sent">
      <p className="strong">
        {who} {humanize(order.status).toLowerCase()} this order{when} while you were filling in the shipment, so it
        cannot be shipped now.
      </p>
      {last?.note && <p className="small">Their note: {last.note}</p>}
      <p className="small">Nothing was sent. What you typed is kept here:</p>
      <dl className="detail-list">
        <dt>Carrier</dt>
        <dd>
          <input readOnly aria-label="Carrier you typed" value={carrier} />
        </dd>
        <dt>Tracking number</dt>
        <dd>
          <input readOnly aria-label="Tracking number you typed" value={tracking} />
        </dd>
      </dl>
      <button type="button" className="button" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

/** Where no move leads on (CONTRACT.md section 4): a label only; the server decides the moves. */
const FINAL_STATUSES: ReadonlySet<OrderStatus> = new Set<OrderStatus>(["CANCELLED", "RETURNED"]);

/** Cancelling is final, so it asks: a reason is required and is kept as the history note. */
function CancelConfirm({
  order,
  pending,
  onConfirm,
  onKeep,
}: {
  order: Order;
  pending: boolean;
  onConfirm: (reason: string) => void;
  onKeep: () => void;
}) {
  const reasonId = useId();
  const [reason, setReason] = useState("");
  const [tried, setTried] = useState(false);
  const field = useRef<HTMLTextAreaElement>(null);
  useEffect(() => field.current?.focus(), []);
  const missing = reason.trim() === "";
  return (
    <form
      className="cancel-confirm"
      aria-label="Cancel this order"
      onSubmit={(event) => {
        event.preventDefault();
        setTried(true);
        if (missing) field.current?.focus();
        else onConfirm(reason);
      }}
    >
      <p className="strong">Cancel order {order.externalId}?</p>
      <p className="small">Cancelling is final: a cancelled order cannot be confirmed, shipped or reopened.</p>
      <label className="field" htmlFor={reasonId}>
        <span className="field-label">Reason (required, kept in the history)</span>
      </label>
      <textarea
        id={reasonId}
        ref={field}
        rows={2}
        maxLength={500}
        aria-required="true"
        aria-invalid={tried && missing}
        aria-describedby={tried && missing ? `${reasonId}-error` : undefined}
        value={reason}
        onChange={(event) => setReason(event.target.value)}
        placeholder="For example: the customer asked to cancel"
      />
      {tried && missing && (
        <p className="form-error" id={`${reasonId}-error`}>
          Give a reason for cancelling.
        </p>
      )}
      <div className="action-buttons">
        <button type="submit" className="button button-danger-solid" disabled={pending}>
          Cancel the order
        </button>
        <button type="button" className="button" onClick={onKeep}>
          Keep the order
        </button>
      </div>
    </form>
  );
}

function Outcome({
  outcomeRef,
  done,
  error,
  userId,
}: {
  outcomeRef: React.RefObject<HTMLDivElement | null>;
  done: OrderStatus | null;
  error: unknown;
  userId: string | undefined;
}) {
  const nameOf = useUserNames();
  return (
    <div aria-live="polite" ref={outcomeRef} tabIndex={-1} className="outcome">
      {error != null && (
        <p className="form-error" role="alert">
          {refusalText(error, userId, nameOf)}
        </p>
      )}
      {done && error == null && (
        <p className="notice" role="status">
          Moved to {humanize(done)}.
        </p>
      )}
    </div>
  );
}

/** A refused move in words: who got there first, rather than the state machine's names. */
export function refusalText(error: unknown, userId: string | undefined, nameOf?: NameOf): string {
  if (!isApiError(error, 409)) return describeError(error);
  const last = (error.details as { lastChange?: StatusHistoryEntry | null } | undefined)?.lastChange;
  if (!last) return `This order cannot make that move any more (${describeError(error)}). It has been reloaded.`;
  const who =
    last.source === "channel"
      ? "The channel"
      : last.changedBy && last.changedBy === userId
        ? "You"
        : (nameOf?.(last.changedBy, last.changedByEmail) ?? last.changedByEmail ?? "Another admin");
  const by = who === "You" || who === "The channel" ? who : `Someone else (${who})`;
  return `${by} already ${humanize(last.status).toLowerCase()} this order ${formatRelative(last.changedAt)}. It has been reloaded.`;
}
