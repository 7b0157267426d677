import { useId } from "react";
import { formatCount } from "../../lib/format";
import { PAGE_SIZES } from "./orderView";

interface PaginationProps {
  page: number;
  /** The page size of the rows on screen. */
  limit: number;
  /** The page size asked for (the select shows it at once). */
  wantedLimit?: number;
  total: number;
  totalPages: number;
  /** The next page is on its way (the rows and this label still show the current one). */
  loading?: boolean;
  onPage: (page: number) => void;
  onLimit: (limit: number) => void;
}

export function Pagination({ page, limit, total, totalPages, loading = false, wantedLimit, onPage, onLimit }: PaginationProps) {
  const sizeId = useId();
  const last = Math.min(page * limit, total);
  const first = total === 0 ? 0 : Math.min((page - 1) * limit + 1, last);
  return (
    <nav className="pagination" aria-label="Pages" aria-busy={loading}>
      <p className="pagination-summary" aria-live="polite">
        {formatCount(first)}–{formatCount(last)} of {formatCount(total)}
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
        <button type="button" className="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
          Previous
        </button>
        <span className="pagination-page">
          Page {formatCount(page)} of {formatCount(Math.max(totalPages, 1))}
        </span>
        <button type="button" className="button" disabled={page >= totalPages} onClick={() => onPage(page + 1)}>
          Next
        </button>
      </div>
    </nav>
  );
}
