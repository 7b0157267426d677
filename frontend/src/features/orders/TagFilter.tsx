import { useId } from "react";
import { formatCount } from "../../lib/format";
import type { OrderView } from "./orderView";
import { useTagsInUse } from "./queries";

interface TagProps {
  view: OrderView;
  onChange: (patch: Partial<OrderView>) => void;
}

/** A picker of the tags in use, with how many orders carry each; nothing while none is. */
export function TagPicker({ view, onChange }: TagProps) {
  const tags = useTagsInUse();
  const pickerId = useId();
  const offered = (tags.data ?? []).filter((entry) => !view.tags.includes(entry.tag));
  if (offered.length === 0) return null;
  return (
    <span className="tag-picker">
      <label htmlFor={pickerId} className="field-label">
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
    </span>
  );
}

/**
 * The tags the list is narrowed to, each removable, and (unless the picker sits with the folded
 * filters, on phones) the picker of the tags in use.
 */
export function TagFilter({ view, onChange, withPicker = true }: TagProps & { withPicker?: boolean }) {
  const tags = useTagsInUse();
  const offered = (tags.data ?? []).some((entry) => !view.tags.includes(entry.tag));
  if (view.tags.length === 0 && !(withPicker && offered)) return null;
  return (
    <div className="tag-filter" role="group" aria-label="Tag filter">
      {withPicker && <TagPicker view={view} onChange={onChange} />}
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
