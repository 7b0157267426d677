import { useEffect, useRef, useState, type FormEvent } from "react";
import { CHANNELS, ORDER_STATUSES, SORTABLE_COLUMNS } from "../../lib/apiTypes";
import { describeError } from "../../lib/errors";
import { useSessionState } from "../../lib/services";
import { apiView } from "../bulk/types";
import { choosableColumns } from "../orders/orderColumns";
import { DEFAULT_VIEW, listState, normalizeTag, PAGE_SIZES, type OrderView } from "../orders/orderView";
import { useChangeView, useDeleteView, useSavedViews, useSaveView, type SavedView, type SavedViewChange } from "./queries";

function toDay(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A saved view as a patch of the list's view: every piece of its state, from its first page. */
export function viewPatch(saved: SavedView): Partial<OrderView> {
  const view = saved.view;
  const size = saved.pageSize ?? DEFAULT_VIEW.limit;
  return {
    page: 1,
    channels: CHANNELS.filter((c) => view.channel?.includes(c)),
    statuses: ORDER_STATUSES.filter((s) => view.status?.includes(s)),
    search: view.search ?? "",
    tags: [...new Set((view.tag ?? []).map(normalizeTag).filter(Boolean))],
    from: toDay(view.from),
    to: toDay(view.to),
    sortBy: SORTABLE_COLUMNS.find((c) => c === view.sortBy) ?? DEFAULT_VIEW.sortBy,
    sortOrder: view.sortOrder === "asc" ? "asc" : "desc",
    limit: (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_VIEW.limit,
    savedView: saved.id,
  };
}

/** The columns a view shows (every choosable one not hidden). */
export function shownColumns(hiddenColumns: readonly string[]): string[] {
  return choosableColumns.map(({ id }) => id).filter((id) => !hiddenColumns.includes(id));
}

/** The columns to hide for a saved view; undefined when it keeps none (the user's own stay). */
export function hiddenFor(saved: SavedView): string[] | undefined {
  if (!saved.columns.length) return undefined;
  return choosableColumns.map(({ id }) => id).filter((id) => !saved.columns.includes(id));
}

/** Whether the list on screen differs from the saved view it was opened from. */
export function differsFrom(saved: SavedView, view: OrderView, hiddenColumns: readonly string[]): boolean {
  const opened = { ...view, ...viewPatch(saved) };
  const sameState = JSON.stringify(listState(opened)) === JSON.stringify(listState(view));
  const columns = hiddenFor(saved);
  const sameColumns = columns === undefined || JSON.stringify(columns) === JSON.stringify([...hiddenColumns].sort(byColumn));
  return !(sameState && sameColumns);
}

const COLUMN_ORDER = choosableColumns.map(({ id }) => id);
const byColumn = (a: string, b: string) => COLUMN_ORDER.indexOf(a) - COLUMN_ORDER.indexOf(b);

/** What a view keeps of the list on screen. */
function currentState(view: OrderView, hiddenColumns: readonly string[]) {
  return { view: apiView(view), columns: shownColumns(hiddenColumns), pageSize: view.limit };
}

/** Saved views beside the filters: open one (the picker then shows it, marked when changed),
 * save the current list, and rename, update, make default, share or delete a view. */
export function SavedViews({
  view,
  onOpen,
  isPlainView,
  hiddenColumns = [],
  onColumns,
}: {
  view: OrderView;
  onOpen: (patch: Partial<OrderView>) => void;
  /** The list opened without any view in its URL: the user's default view applies. */
  isPlainView: boolean;
  hiddenColumns?: readonly string[];
  /** Shows a saved view's columns. */
  onColumns?: (hidden: string[]) => void;
}) {
  const { user } = useSessionState();
  const views = useSavedViews();
  const save = useSaveView();
  const change = useChangeView();
  const remove = useDeleteView();
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");
  const [isDefault, setIsDefault] = useState(false);
  const [shared, setShared] = useState(false);
  const appliedDefault = useRef(false);
  const isAdmin = user?.role === "admin";

  const open = (saved: SavedView) => {
    onOpen(viewPatch(saved));
    const hidden = hiddenFor(saved);
    if (hidden) onColumns?.(hidden);
  };

  useEffect(() => {
    if (appliedDefault.current || !views.data) return;
    appliedDefault.current = true;
    const preset = views.data.find((v) => v.isDefault);
    if (preset && isPlainView) open(preset);
    // Once, when the views first arrive.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [views.data, isPlainView]);

  const active = views.data?.find((v) => v.id === view.savedView);
  const changed = !!active && differsFrom(active, view, hiddenColumns);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(
      { name: name.trim(), ...currentState(view, hiddenColumns), isDefault, shared },
      {
        onSuccess: (created) => {
          setNaming(false);
          setName("");
          setIsDefault(false);
          setShared(false);
          onOpen({ savedView: created.id });
        },
      },
    );
  };
  const patch = (saved: SavedView, body: SavedViewChange) => change.mutate({ id: saved.id, change: body });

  return (
    <section className="saved-views" aria-label="Saved views">
      <label className="field field-inline">
        <span className="field-label">Saved views</span>
        <select
          aria-label="Open a saved view"
          value={active ? active.id : ""}
          onChange={(event) => {
            const chosen = views.data?.find((v) => v.id === event.target.value);
            if (chosen) open(chosen);
            else onOpen({ savedView: "" });
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
      {active && changed && (
        <span className="saved-view-changed" role="status">
          <span className="badge">Changed</span>
          {(active.mine || isAdmin) && (
            <button
              type="button"
              className="button button-quiet"
              disabled={change.isPending}
              onClick={() => patch(active, currentState(view, hiddenColumns))}
            >
              Update “{active.name}”
            </button>
          )}
          <button type="button" className="button button-quiet" onClick={() => open(active)}>
            Revert
          </button>
        </span>
      )}
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
          {isAdmin && (
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
      {views.data?.some((v) => v.mine || isAdmin) && (
        <details className="saved-view-manage">
          <summary>Manage</summary>
          <ul>
            {views.data
              .filter((v) => v.mine || isAdmin)
              .map((saved) => (
                <ManagedView
                  key={saved.id}
                  saved={saved}
                  isAdmin={isAdmin}
                  busy={change.isPending}
                  onChange={(body) => patch(saved, body)}
                  onUpdate={() => patch(saved, currentState(view, hiddenColumns))}
                  onDelete={() => remove.mutate(saved.id)}
                />
              ))}
          </ul>
        </details>
      )}
      {(save.isError || change.isError || remove.isError) && (
        <p className="form-error">{describeError(save.error ?? change.error ?? remove.error)}</p>
      )}
    </section>
  );
}

function ManagedView({
  saved,
  isAdmin,
  busy,
  onChange,
  onUpdate,
  onDelete,
}: {
  saved: SavedView;
  isAdmin: boolean;
  busy: boolean;
  onChange: (body: SavedViewChange) => void;
  onUpdate: () => void;
  onDelete: () => void;
}) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(saved.name);
  return (
    <li className="saved-view-item">
      {renaming ? (
        <form
          className="saved-view-rename"
          onSubmit={(event) => {
            event.preventDefault();
            if (name.trim()) onChange({ name: name.trim() });
            setRenaming(false);
          }}
        >
          <input aria-label={`New name for ${saved.name}`} value={name} maxLength={80} onChange={(event) => setName(event.target.value)} autoFocus />
          <button type="submit" className="button button-quiet" disabled={!name.trim()}>
            Rename
          </button>
        </form>
      ) : (
        <span className="strong">{saved.name}</span>
      )}
      <span className="saved-view-actions">
        {!renaming && (
          <button type="button" className="button button-quiet" aria-label={`Rename the view ${saved.name}`} onClick={() => setRenaming(true)}>
            Rename
          </button>
        )}
        <button
          type="button"
          className="button button-quiet"
          aria-label={`Update the view ${saved.name} with the list on screen`}
          disabled={busy}
          onClick={onUpdate}
        >
          Update
        </button>
        {saved.mine && (
          <button
            type="button"
            className="button button-quiet"
            aria-label={saved.isDefault ? `Stop opening ${saved.name} by default` : `Make ${saved.name} my default`}
            disabled={busy}
            onClick={() => onChange({ isDefault: !saved.isDefault })}
          >
            {saved.isDefault ? "Not default" : "Make default"}
          </button>
        )}
        {isAdmin && (
          <button
            type="button"
            className="button button-quiet"
            aria-label={saved.shared ? `Stop sharing ${saved.name}` : `Share ${saved.name} with the team`}
            disabled={busy}
            onClick={() => onChange({ shared: !saved.shared })}
          >
            {saved.shared ? "Unshare" : "Share"}
          </button>
        )}
        <button type="button" className="button button-quiet" aria-label={`Delete the view ${saved.name}`} onClick={onDelete}>
          Delete
        </button>
      </span>
    </li>
  );
}
