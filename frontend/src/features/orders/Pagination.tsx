import { useId, useState, type FormEvent } from "react";
import { channelName } from "../../components/ui/Badge";
import { CHANNELS, ORDER_STATUSES, type SortBy } from "../../lib/apiTypes";
import { formatCount, humanize } from "../../lib/format";
import { PAGE_SIZES, type OrderView } from "./orderView";

/** Numbered pages are offered up to here; deeper pages are reached by cursor or a jump. */
export const NUMBERED_PAGES = 5;

/** Where a page's buttons lead: a numbered page, or a cursor with the page's number if known. */
export type PageMove = Pick<OrderView, "page"> & Partial<Pick<OrderView, "cursor" | "startAt">>;

interface PaginationProps {
  /** The page's number; 0 when it is not known (reached by a jump). */
  page: number;
  /** The page size of the rows on screen. */
  limit: number;
  /** The page size asked for (the select shows it at once). */
  wantedLimit?: number;
  total: number;
  totalPages: number;
  /** The total is the server's estimate (a broad search): shown as "about". */
  totalIsEstimate?: boolean;
  /** How many rows are on screen. */
  shown: number;
  nextCursor?: string | null;
  prevCursor?: string | null;
  lastCursor?: string | null;
  sortBy: SortBy;
  /** The next page is on its way (the rows and this label still show the current one). */
  loading?: boolean;
  onMove: (move: PageMove) => void;
  onLimit: (limit: number) => void;
}

/** "12,000" or "about 12,000". */
export function countLabel(total: number, estimate = false): string {
  return `${estimate ? "about " : ""}${formatCount(total)}`;
}

export function Pagination({
  page,
  limit,
  total,
  totalPages,
  totalIsEstimate = false,
  shown,
  nextCursor,
  prevCursor,
  lastCursor,
  sortBy,
  loading = false,
  wantedLimit,
  onMove,
  onLimit,
}: PaginationProps) {
  const sizeId = useId();
  const known = page > 0;
  const first = known ? Math.min((page - 1) * limit + 1, total) : 0;
  const last = known ? Math.min(page * limit, total) : 0;
  const pages = Math.max(totalPages, 1);
  const numbered = Array.from({ length: Math.min(NUMBERED_PAGES, pages) }, (_, n) => n + 1);
  return (
    <nav className="pagination" aria-label="Pages" aria-busy={loading}>
      <p className="pagination-summary" aria-live="polite">
        {known && shown > 0
          ? `${formatCount(first)}–${formatCount(last)} of ${countLabel(total, totalIsEstimate)}`
          : `${formatCount(shown)} shown of ${countLabel(total, totalIsEstimate)}`}
      </p>
      <div className="pagination-controls">
        <label htmlFor={sizeId} className="field-label">
          Rows per page
        </label>
        <select id={sizeId} value={wantedLimit ?? limit} onChange={(event) => onLimit(Number(event.target.value))}>
          {PAGE_SIZES.map((size) => (
            <option key={size} value={size}>
              {size}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button"
          disabled={!prevCursor}
          onClick={() =>
            prevCursor &&
            (page === 2 ? onMove({ page: 1 }) : onMove({ page: known ? page - 1 : 0, cursor: prevCursor }))
          }
        >
          Previous
        </button>
        <span className="pagination-page">
          {known ? `Page ${formatCount(page)} of ${totalIsEstimate ? "about " : ""}${formatCount(pages)}` : "Page —"}
        </span>
        <button
          type="button"
          className="button"
          disabled={!nextCursor}
          onClick={() => nextCursor && onMove({ page: known ? page + 1 : 0, cursor: nextCursor })}
        >
          Next
        </button>
      </div>
      <div className="pagination-controls pagination-jump">
        <span className="field-label">Pages</span>
        {numbered.map((n) => (
          <button
            key={n}
            type="button"
            className={`button button-quiet${n === page ? " is-current" : ""}`}
            aria-current={n === page ? "page" : undefined}
            onClick={() => onMove({ page: n })}
          >
            {n}
          </button>
        ))}
        {pages > NUMBERED_PAGES && lastCursor && (
          <button
            type="button"
            className={`button button-quiet${page === pages ? " is-current" : ""}`}
            onClick={() => onMove({ page: totalIsEstimate ? 0 : pages, cursor: lastCursor })}
          >
            Last
          </button>
        )}
        <JumpTo sortBy={sortBy} onJump={(startAt) => onMove({ page: 0, startAt })} />
      </div>
    </nav>
  );
}

const JUMP_LABELS: Record<SortBy, string> = {
  placedAt: "Jump to date placed",
  updatedAt: "Jump to date updated",
  total: "Jump to total",
  status: "Jump to status",
  channel: "Jump to channel",
};

/** Instead of deep page numbers: start the page at a date, an amount, a status or a channel. */
function JumpTo({ sortBy, onJump }: { sortBy: SortBy; onJump: (startAt: string) => void }) {
  const [value, setValue] = useState("");
  const inputId = useId();
  const label = JUMP_LABELS[sortBy];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value) onJump(value);
  };
  let input;
  if (sortBy === "status" || sortBy === "channel") {
    const options = sortBy === "status" ? ORDER_STATUSES : CHANNELS;
    input = (
      <select id={inputId} value={value} onChange={(event) => setValue(event.target.value)}>
        <option value="">Choose…</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {sortBy === "status" ? humanize(option) : channelName(option as (typeof CHANNELS)[number])}
          </option>
        ))}
      </select>
    );
  } else if (sortBy === "total") {
    input = (
      <input id={inputId} type="number" min={0} step="0.01" inputMode="decimal" value={value} onChange={(event) => setValue(event.target.value)} />
    );
  } else {
    input = <input id={inputId} type="date" value={value} onChange={(event) => setValue(event.target.value)} />;
  }
  return (
    <form className="pagination-jump-form" onSubmit={submit}>
      <label htmlFor={inputId} className="field-label">
        {label}
      </label>
      {input}
      <button type="submit" className="button" disabled={!value}>
        Go
      </button>
    </form>
  );
}
