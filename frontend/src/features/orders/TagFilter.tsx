import { useId } from "react";
import { formatCount } from "../../lib/format";
import type { OrderView } from "./orderView";
import { useTagsInUse } from "./queries";

/** The tags the list is narrowed to, each removable, and a picker of the tags in use. */
export function TagFilter({ view, onChange }: { view: OrderView; onChange: (patch: Partial<OrderView>) => void }) {
  const tags = useTagsInUse();
  const pickerId = useId();
  const offered = (tags.data ?? []).filter((entry) => !view.tags.includes(entry.tag));
  if (view.tags.length === 0 && offered.length === 0) return null;
  return (
    <div className="tag-filter" role="group" aria-label="Tag filter">
      {offered.length > 0 && (
        <>
          <label htmlFor={pickerId} className="muted small">
            Tag
          </label>
          <select
            id={pickerId}
            value=""
            onChange={(event) => event.target.value && onChange({ tags: [...view.tags, event.target.value] })}
          >
            <option value="">{view.tags.length ? "And tagged…" : "Any tag"}</option>
            {offered.map((entry) => (
              <option key={entry.tag} value={entry.tag}>
                {entry.tag} ({formatCount(entry.orders)})
              </option>
            ))}
          </select>
        </>
      )}
      {view.tags.length > 0 && <span className="muted small">Tagged</span>}
      {view.tags.map((tag) => (
        <button
          key={tag}
          type="button"
          className="tag tag-removable"
          aria-label={`Remove the tag filter ${tag}`}
          onClick={() => onChange({ tags: view.tags.filter((t) => t !== tag) })}
        >
          {tag} <span aria-hidden="true">×</span>
        </button>
      ))}
    </div>
  );
}
