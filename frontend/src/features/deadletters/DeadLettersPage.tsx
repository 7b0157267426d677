import { useId, useState } from "react";
import { useSearchParams } from "react-router";
import { EmptyState, ErrorState, Skeleton } from "../../components/ui/States";
import type { DeadLetter, DeadLetterState } from "../../lib/apiTypes";
import { describeError } from "../../lib/errors";
import { formatAbsolute, humanize } from "../../lib/format";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { useDeadLetters, useDiscardDeadLetter, useReplayDeadLetter } from "./queries";

const STATES = ["pending", "replayed", "discarded"] as const satisfies readonly DeadLetterState[];

/** Events that could not be processed, with their error and payload: replay after a fix, or
 * discard with a reason. State and page live in the URL. */
export function DeadLettersPage() {
  useDocumentTitle("Dead letters");
  const [params, setParams] = useSearchParams();
  const state = STATES.find((s) => s === params.get("state")) ?? "pending";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const letters = useDeadLetters(state, page);
  const show = (next: Partial<{ state: DeadLetterState; page: number }>) => {
    const merged = { state, page, ...next };
    const search = new URLSearchParams();
    if (merged.state !== "pending") search.set("state", merged.state);
    if (merged.page !== 1) search.set("page", String(merged.page));
    setParams(search);
  };

  return (
    <div className="page">
      <header className="page-header">
        <h1>Dead letters</h1>
      </header>
      <div className="toggle-group" role="group" aria-label="Show">
        <div className="toggle-options">
          {STATES.map((option) => (
            <button
              key={option}
              type="button"
              className="toggle"
              aria-pressed={option === state}
              onClick={() => show({ state: option, page: 1 })}
            >
              {humanize(option)}
            </button>
          ))}
        </div>
      </div>
      {letters.isError ? (
        <ErrorState title="Could not load dead letters" error={letters.error} onRetry={() => void letters.refetch()} />
      ) : !letters.data ? (
        <div aria-busy="true">
          <Skeleton width="long" />
          <Skeleton width="long" />
        </div>
      ) : letters.data.deadLetters.length === 0 ? (
        <EmptyState title={`No ${state} dead letters`}>
          {state === "pending" ? "Every event was processed, or has been dealt with." : null}
        </EmptyState>
      ) : (
        <>
          <p className="muted small">{letters.data.pagination.total} in all</p>
          <ul className="dead-letters" aria-label="Dead letters">
            {letters.data.deadLetters.map((letter) => (
              <DeadLetterItem key={letter.id} letter={letter} />
            ))}
          </ul>
          {letters.data.pagination.totalPages > 1 && (
            <nav className="pagination" aria-label="Pages">
              <button type="button" className="button" disabled={page <= 1} onClick={() => show({ page: page - 1 })}>
                Previous
              </button>
              <span>
                Page {page} of {letters.data.pagination.totalPages}
              </span>
              <button
                type="button"
                className="button"
                disabled={page >= letters.data.pagination.totalPages}
                onClick={() => show({ page: page + 1 })}
              >
                Next
              </button>
            </nav>
          )}
        </>
      )}
    </div>
  );
}

function prettyPayload(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

function DeadLetterItem({ letter }: { letter: DeadLetter }) {
  const payloadId = useId();
  const reasonId = useId();
  const [editing, setEditing] = useState(false);
  const [payload, setPayload] = useState(() => prettyPayload(letter.payload));
  const [discarding, setDiscarding] = useState(false);
  const [reason, setReason] = useState("");
  const replay = useReplayDeadLetter();
  const discard = useDiscardDeadLetter();
  const error = replay.error ?? discard.error;

  return (
    <li className="dead-letter" aria-label={`Dead letter ${letter.id}`}>
      <p>
        <strong>{humanize(letter.errorType)}</strong>
        <span className="muted small">
          {" "}
          · <time dateTime={letter.deadLetteredAt}>{formatAbsolute(letter.deadLetteredAt)}</time> · key{" "}
          <span className="mono">{letter.key ?? "none"}</span> · {letter.id}
        </span>
      </p>
      <p className="dead-letter-error">{letter.error}</p>
      {letter.state !== "pending" && (
        <p className="muted">
          {humanize(letter.state)}
          {letter.resolvedAt && <> {formatAbsolute(letter.resolvedAt)}</>}
          {letter.reason && <>: {letter.reason}</>}
        </p>
      )}
      {editing ? (
        <>
          <label className="field" htmlFor={payloadId}>
            <span className="field-label">Fixed payload</span>
          </label>
          <textarea id={payloadId} rows={12} value={payload} onChange={(event) => setPayload(event.target.value)} />
        </>
      ) : (
        <pre aria-label="Payload">{prettyPayload(letter.payload)}</pre>
      )}
      {letter.state === "pending" && (
        <div className="action-buttons">
          <button
            type="button"
            className="button button-primary"
            disabled={replay.isPending}
            onClick={() => replay.mutate({ id: letter.id, payload: editing ? payload : undefined })}
          >
            {editing ? "Replay the fixed event" : "Replay"}
          </button>
          <button type="button" className="button" onClick={() => setEditing(!editing)}>
            {editing ? "Keep the original" : "Edit payload"}
          </button>
          {discarding ? (
            <form
              className="inline-form"
              onSubmit={(event) => {
                event.preventDefault();
                if (reason.trim()) discard.mutate({ id: letter.id, reason: reason.trim() });
              }}
            >
              <label htmlFor={reasonId} className="visually-hidden">
                Reason
              </label>
              <input
                id={reasonId}
                placeholder="Why discard it?"
                value={reason}
                maxLength={1000}
                onChange={(event) => setReason(event.target.value)}
              />
              <button type="submit" className="button button-danger" disabled={!reason.trim() || discard.isPending}>
                Discard
              </button>
            </form>
          ) : (
            <button type="button" className="button button-danger" onClick={() => setDiscarding(true)}>
              Discard…
            </button>
          )}
        </div>
      )}
      {error && (
        <p className="form-error" role="alert">
          {describeError(error)}
        </p>
      )}
    </li>
  );
}
