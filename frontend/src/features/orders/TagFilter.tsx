import type { OrderView } from "./orderView";

/** The tags the list is narrowed to (set from an order's tags), each removable. */
export function TagFilter({ view, onChange }: { view: OrderView; onChange: (patch: Partial<OrderView>) => void }) {
  if (view.tags.length === 0) return null;
  return (
    <div className="tag-filter" role="group" aria-label="Tag filter">
      <span className="muted small">Tagged</span>
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
