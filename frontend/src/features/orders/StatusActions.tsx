import { useEffect, useId, useRef, useState } from "react";
import type { Order, OrderStatus } from "../../lib/apiTypes";
import { describeError, isApiError } from "../../lib/errors";
import { humanize } from "../../lib/format";
import { nextStatuses } from "../../lib/statusMoves";
import { useMoveStatus } from "./queries";

/** The status moves an admin may make from the order's current status. */
export function StatusActions({ order }: { order: Order }) {
  const noteId = useId();
  const [note, setNote] = useState("");
  const [done, setDone] = useState<OrderStatus | null>(null);
  const move = useMoveStatus(order.id);
  const choices = nextStatuses(order.status);
  const outcome = useRef<HTMLDivElement>(null);

  // The pressed button is gone after a move (the choices change), so keyboard focus goes to
  // the outcome instead of falling out of the drawer.
  useEffect(() => {
    if (done || move.isError) outcome.current?.focus();
  }, [done, move.isError]);

  if (choices.length === 0) {
    return (
      <section className="detail-section actions" aria-label="Status actions">
        <p className="muted">{humanize(order.status)} is final: no further status moves.</p>
      </section>
    );
  }

  const onMove = (status: OrderStatus) => {
    setDone(null);
    move.mutate(
      { status, note: note.trim() || undefined },
      {
        onSuccess: () => {
          setNote("");
          setDone(status);
        },
      },
    );
  };

  return (
    <section className="detail-section actions" aria-labelledby="actions-title">
      <h3 id="actions-title">Move to</h3>
      <div className="action-buttons">
        {choices.map((status) => (
          <button
            key={status}
            type="button"
            className={`button ${status === "CANCELLED" ? "button-danger" : "button-primary"}`}
            disabled={move.isPending}
            onClick={() => onMove(status)}
          >
            {status === "CANCELLED" ? "Cancel order" : `Mark ${humanize(status).toLowerCase()}`}
          </button>
        ))}
      </div>
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
      <div aria-live="polite" ref={outcome} tabIndex={-1} className="outcome">
        {move.isError && (
          <p className="form-error" role="alert">
            {isApiError(move.error, 409)
              ? `This order cannot make that move any more (${describeError(move.error)}). It has been reloaded.`
              : describeError(move.error)}
          </p>
        )}
        {done && !move.isError && (
          <p className="notice" role="status">
            Moved to {humanize(done)}.
          </p>
        )}
      </div>
    </section>
  );
}
