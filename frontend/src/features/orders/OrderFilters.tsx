import { useEffect, useRef, useState } from "react";
import { channelName } from "../../components/ui/Badge";
import { ToggleGroup } from "../../components/ui/ToggleGroup";
import { CHANNELS, ORDER_STATUSES } from "../../lib/apiTypes";
import { humanize } from "../../lib/format";
import { DEFAULT_VIEW, type OrderView } from "./orderView";

export const SEARCH_DEBOUNCE_MS = 300;

interface OrderFiltersProps {
  view: OrderView;
  onChange: (patch: Partial<OrderView>, options?: { replace?: boolean }) => void;
}

export function OrderFilters({ view, onChange }: OrderFiltersProps) {
  const filtered =
    view.channels.length > 0 || view.statuses.length > 0 || view.search !== "" || view.from !== "" || view.to !== "";
  return (
    <section className="filters" aria-label="Filters">
      <SearchBox value={view.search} onCommit={(search) => onChange({ search }, { replace: true })} />
      <ToggleGroup
        label="Channel"
        options={CHANNELS}
        selected={view.channels}
        onChange={(channels) => onChange({ channels })}
        renderOption={channelName}
      />
      <ToggleGroup
        label="Status"
        options={ORDER_STATUSES}
        selected={view.statuses}
        onChange={(statuses) => onChange({ statuses })}
        renderOption={humanize}
      />
      <div className="date-range" role="group" aria-label="Placed between">
        <label className="field field-inline">
          <span className="field-label">From</span>
          <input
            type="date"
            value={view.from}
            max={view.to || undefined}
            onChange={(event) => onChange({ from: event.target.value })}
          />
        </label>
        <label className="field field-inline">
          <span className="field-label">To</span>
          <input
            type="date"
            value={view.to}
            min={view.from || undefined}
            onChange={(event) => onChange({ to: event.target.value })}
          />
        </label>
      </div>
      {filtered && (
        <button
          type="button"
          className="button button-quiet"
          onClick={() =>
            onChange({
              channels: DEFAULT_VIEW.channels,
              statuses: DEFAULT_VIEW.statuses,
              search: DEFAULT_VIEW.search,
              from: DEFAULT_VIEW.from,
              to: DEFAULT_VIEW.to,
            })
          }
        >
          Clear filters
        </button>
      )}
    </section>
  );
}

/** Commits what was typed once typing pauses, and follows the URL on back/forward. */
function SearchBox({ value, onCommit }: { value: string; onCommit: (search: string) => void }) {
  const [draft, setDraft] = useState(value);
  const committed = useRef(value);
  // The parent passes a fresh callback on each render; that must not restart the pause.
  const commit = useRef(onCommit);
  commit.current = onCommit;

  useEffect(() => {
    if (value !== committed.current) {
      committed.current = value;
      setDraft(value);
    }
  }, [value]);

  useEffect(() => {
    const search = draft.trim();
    if (search === committed.current) return;
    const timer = setTimeout(() => {
      committed.current = search;
      commit.current(search);
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [draft]);

  return (
    <label className="field search-field">
      <span className="field-label">Search</span>
      <input
        type="search"
        maxLength={200}
        placeholder="Order id, external id, customer name, phone or email"
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
      />
    </label>
  );
}
