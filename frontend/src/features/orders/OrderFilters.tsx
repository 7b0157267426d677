import { useId, useState, type ReactNode, type RefObject } from "react";
import { useDebouncedDraft } from "../../lib/useDebouncedDraft";
import { channelName } from "../../components/ui/Badge";
import { ToggleGroup } from "../../components/ui/ToggleGroup";
import { CHANNELS, ORDER_STATUSES } from "../../lib/apiTypes";
import { humanize } from "../../lib/format";
import { DATE_PRESETS, presetOf, presetRange, type DatePreset } from "./datePresets";
import { DEFAULT_VIEW, type OrderView } from "./orderView";

export const SEARCH_DEBOUNCE_MS = 300;

interface OrderFiltersProps {
  view: OrderView;
  onChange: (patch: Partial<OrderView>, options?: { replace?: boolean }) => void;
  /** Phones: everything but the search folds behind a "Filters" button. */
  folded?: boolean;
  searchRef?: RefObject<HTMLInputElement | null>;
  /** More filters inside the panel (the tag picker, on phones). */
  children?: ReactNode;
}

/** How many filters (not counting the search) narrow the view. */
export function activeFilterCount(view: OrderView): number {
  return view.channels.length + view.statuses.length + view.tags.length + (view.from || view.to ? 1 : 0);
}

export function OrderFilters({ view, onChange, folded = false, searchRef, children }: OrderFiltersProps) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const count = activeFilterCount(view);
  const filtered = count > 0 || view.search !== "";
  const showPanel = !folded || open;
  return (
    <section className={`filters${folded ? " filters-folded" : ""}`} aria-label="Filters">
      <SearchBox value={view.search} onCommit={(search) => onChange({ search }, { replace: true })} inputRef={searchRef} />
      {folded && (
        <button
          type="button"
          className="button filters-toggle"
          aria-expanded={open}
          aria-controls={panelId}
          onClick={() => setOpen((value) => !value)}
        >
          Filters{count > 0 ? ` (${count})` : ""}
        </button>
      )}
      {showPanel && (
        <div className="filters-panel" id={panelId}>
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
          <PlacedFilter view={view} onChange={onChange} />
          {children}
        </div>
      )}
      {filtered && (
        <button
          type="button"
          className="button button-quiet"
          onClick={() =>
            onChange({
              channels: DEFAULT_VIEW.channels,
              statuses: DEFAULT_VIEW.statuses,
              search: DEFAULT_VIEW.search,
              tags: DEFAULT_VIEW.tags,
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

/**
 * When the order was placed: one select of named ranges (a single Tab stop); the two date
 * fields appear only for a custom range.
 */
function PlacedFilter({ view, onChange }: Pick<OrderFiltersProps, "view" | "onChange">) {
  const selectId = useId();
  const preset = presetOf(view.from, view.to);
  const [custom, setCustom] = useState(preset === "custom");
  const choice = custom ? "custom" : preset;
  const choose = (value: string) => {
    if (value === "custom") {
      setCustom(true);
      return;
    }
    setCustom(false);
    onChange(value ? presetRange(value as DatePreset) : { from: "", to: "" });
  };
  return (
    <div className="date-range" role="group" aria-label="Placed between">
      <label className="field" htmlFor={selectId}>
        <span className="field-label">Placed</span>
        <select id={selectId} value={choice} onChange={(event) => choose(event.target.value)}>
          <option value="">Any time</option>
          {DATE_PRESETS.map(({ id, label }) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
          <option value="custom">Custom range…</option>
        </select>
      </label>
      {choice === "custom" && (
        <>
          <label className="field">
            <span className="field-label">From</span>
            <input
              type="date"
              value={view.from}
              max={view.to || undefined}
              onChange={(event) => onChange({ from: event.target.value })}
            />
          </label>
          <label className="field">
            <span className="field-label">To</span>
            <input
              type="date"
              value={view.to}
              min={view.from || undefined}
              onChange={(event) => onChange({ to: event.target.value })}
            />
          </label>
        </>
      )}
    </div>
  );
}

/** Commits what was typed once typing pauses, and follows the URL on back/forward. */
function SearchBox({
  value,
  onCommit,
  inputRef,
}: {
  value: string;
  onCommit: (search: string) => void;
  inputRef?: RefObject<HTMLInputElement | null>;
}) {
  const [draft, setDraft] = useDebouncedDraft(value, onCommit, SEARCH_DEBOUNCE_MS);

  return (
    <label className="field search-field">
      <span className="field-label">
        Search <kbd className="shortcut" aria-hidden="true">/</kbd>
      </span>
      <input
        ref={inputRef}
        type="search"
        maxLength={200}
        placeholder="Order id, external id, customer name, phone or email"
        aria-keyshortcuts="/"
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
      />
    </label>
  );
}
