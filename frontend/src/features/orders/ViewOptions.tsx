import { useId, useState } from "react";
import { choosableColumns } from "./orderColumns";
import type { TablePrefs } from "./tablePrefs";
import { WAITING_HOUR_CHOICES } from "./waiting";

/** Density, columns and the "waiting too long" threshold: one button, a small panel, kept per user. */
export function ViewOptions({ prefs, onChange, cards }: { prefs: TablePrefs; onChange: (patch: Partial<TablePrefs>) => void; cards: boolean }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const waitingId = useId();
  const toggleColumn = (id: string, shown: boolean) =>
    onChange({ hiddenColumns: shown ? prefs.hiddenColumns.filter((hidden) => hidden !== id) : [...prefs.hiddenColumns, id] });
  return (
    <div className="view-options">
      <button type="button" className="button" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen(!open)}>
        View options
      </button>
      {open && (
        <div className="view-options-panel" id={panelId} role="group" aria-label="View options">
          {!cards && (
            <>
              <fieldset>
                <legend className="field-label">Rows</legend>
                {(["comfortable", "compact"] as const).map((density) => (
                  <label key={density} className="check">
                    <input
                      type="radio"
                      name={`${panelId}-density`}
                      checked={prefs.density === density}
                      onChange={() => onChange({ density })}
                    />
                    {density === "compact" ? "Compact" : "Comfortable"}
                  </label>
                ))}
              </fieldset>
              <fieldset>
                <legend className="field-label">Columns</legend>
                {choosableColumns.map(({ id, label }) => (
                  <label key={id} className="check">
                    <input
                      type="checkbox"
                      checked={!prefs.hiddenColumns.includes(id)}
                      onChange={(event) => toggleColumn(id, event.target.checked)}
                    />
                    {label}
                  </label>
                ))}
              </fieldset>
            </>
          )}
          <label className="field" htmlFor={waitingId}>
            <span className="field-label">Flag Placed or Confirmed orders waiting longer than</span>
            <select
              id={waitingId}
              value={prefs.waitingHours}
              onChange={(event) => onChange({ waitingHours: Number(event.target.value) })}
            >
              {WAITING_HOUR_CHOICES.map((hours) => (
                <option key={hours} value={hours}>
                  {hours} hours
                </option>
              ))}
              <option value={0}>Never flag</option>
            </select>
          </label>
        </div>
      )}
    </div>
  );
}
