import { useEffect, useRef, useState, type FormEvent } from "react";
import { CHANNELS, ORDER_STATUSES, SORTABLE_COLUMNS } from "../../lib/apiTypes";
import { describeError } from "../../lib/errors";
import { useSessionState } from "../../lib/services";
import { apiView } from "../bulk/types";
import { DEFAULT_VIEW, type OrderView } from "../orders/orderView";
import { useDeleteView, useSavedViews, useSaveView, type SavedView } from "./queries";

function toDay(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A saved view as a patch of the list's view (back to its first page). */
export function viewPatch(saved: SavedView): Partial<OrderView> {
  const view = saved.view;
  return {
    page: 1,
    channels: CHANNELS.filter((c) => view.channel?.includes(c)),
    statuses: ORDER_STATUSES.filter((s) => view.status?.includes(s)),
    search: view.search ?? "",
    from: toDay(view.from),
    to: toDay(view.to),
    sortBy: SORTABLE_COLUMNS.find((c) => c === view.sortBy) ?? DEFAULT_VIEW.sortBy,
    sortOrder: view.sortOrder === "asc" ? "asc" : "desc",
  };
}

/** Saved views beside the filters: open one, save the current view, share it (admins). */
export function SavedViews({
  view,
  onOpen,
  isPlainView,
}: {
  view: OrderView;
  onOpen: (patch: Partial<OrderView>) => void;
  /** The list opened without any view in its URL: the user's default view applies. */
  isPlainView: boolean;
}) {
  const { user } = useSessionState();
  const views = useSavedViews();
  const save = useSaveView();
  const remove = useDeleteView();
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");
  const [isDefault, setIsDefault] = useState(false);
  const [shared, setShared] = useState(false);
  const appliedDefault = useRef(false);

  useEffect(() => {
    if (appliedDefault.current || !views.data) return;
    appliedDefault.current = true;
    const preset = views.data.find((v) => v.isDefault);
    if (preset && isPlainView) onOpen(viewPatch(preset));
  }, [views.data, isPlainView, onOpen]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(
      { name: name.trim(), view: apiView(view), isDefault, shared, columns: [] },
      {
        onSuccess: () => {
          setNaming(false);
          setName("");
          setIsDefault(false);
          setShared(false);
        },
      },
    );
  };

  return (
    <section className="saved-views" aria-label="Saved views">
      <label className="field field-inline">
        <span className="field-label">Saved views</span>
        <select
          aria-label="Open a saved view"
          value=""
          onChange={(event) => {
            const chosen = views.data?.find((v) => v.id === event.target.value);
            if (chosen) onOpen(viewPatch(chosen));
          }}
        >
          <option value="">{views.data?.length ? "Open a view…" : "No saved views yet"}</option>
          {views.data?.map((saved) => (
            <option key={saved.id} value={saved.id}>
              {saved.name}
              {saved.isDefault ? " (default)" : ""}
              {saved.shared ? " · team" : ""}
            </option>
          ))}
        </select>
      </label>
      {naming ? (
        <form className="saved-view-form" onSubmit={submit}>
          <label className="field field-inline">
            <span className="field-label">Name</span>
            <input value={name} onChange={(event) => setName(event.target.value)} maxLength={80} required autoFocus />
          </label>
          <label className="field-inline">
            <input type="checkbox" checked={isDefault} onChange={(event) => setIsDefault(event.target.checked)} /> My
            default
          </label>
          {user?.role === "admin" && (
            <label className="field-inline">
              <input type="checkbox" checked={shared} onChange={(event) => setShared(event.target.checked)} /> Share
              with the team
            </label>
          )}
          <button type="submit" className="button button-primary" disabled={save.isPending || !name.trim()}>
            Save view
          </button>
          <button type="button" className="button button-quiet" onClick={() => setNaming(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <button type="button" className="button" onClick={() => setNaming(true)}>
          Save this view
        </button>
      )}
      {views.data?.some((v) => v.mine) && (
        <details className="saved-view-manage">
          <summary>Manage</summary>
          <ul>
            {views.data
              .filter((v) => v.mine || user?.role === "admin")
              .map((saved) => (
                <li key={saved.id}>
                  {saved.name}{" "}
                  <button
                    type="button"
                    className="button button-quiet"
                    aria-label={`Delete the view ${saved.name}`}
                    onClick={() => remove.mutate(saved.id)}
                  >
                    Delete
                  </button>
                </li>
              ))}
          </ul>
        </details>
      )}
      {(save.isError || remove.isError) && <p className="form-error">{describeError(save.error ?? remove.error)}</p>}
    </section>
  );
}
