import { useId, useState, type FormEvent } from "react";
import { Link } from "react-router";
import type { Order } from "../../lib/apiTypes";
import { describeError } from "../../lib/errors";
import { formatAbsolute } from "../../lib/format";
import { useAddNote, useChangeTags } from "./queries";
import { useUserNames } from "../users/names";
import { useSessionState } from "../../lib/services";
import { normalizeTag } from "./orderView";

const TAG_PATTERN = /^[\w\- :/.#]*\w[\w\- :/.#]*$/u;

/** The order's free tags (each a link to the orders carrying it) and, for admins, edits. */
export function TagsSection({ order, canEdit }: { order: Order; canEdit: boolean }) {
  const inputId = useId();
  const [draft, setDraft] = useState("");
  const change = useChangeTags(order.id);
  const tag = normalizeTag(draft);
  const valid = tag.length > 0 && tag.length <= 40 && TAG_PATTERN.test(tag);
  const tags = order.tags ?? [];

  const onAdd = (event: FormEvent) => {
    event.preventDefault();
    if (!valid) return;
    change.mutate({ add: [tag] }, { onSuccess: () => setDraft("") });
  };

  return (
    <section className="detail-section" aria-labelledby="tags-title">
      <h3 id="tags-title">Tags</h3>
      <ul className="tag-list" aria-label="Tags">
        {tags.length === 0 && <li className="muted">No tags</li>}
        {tags.map((name) => (
          <li key={name} className="tag">
            <Link to={{ pathname: "/orders", search: new URLSearchParams({ tag: name }).toString() }}>{name}</Link>
            {canEdit && (
              <button
                type="button"
                className="tag-remove"
                aria-label={`Remove tag ${name}`}
                disabled={change.isPending}
                onClick={() => change.mutate({ remove: [name] })}
              >
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {canEdit && (
        <form className="inline-form" onSubmit={onAdd}>
          <label htmlFor={inputId} className="visually-hidden">
            New tag
          </label>
          <input
            id={inputId}
            value={draft}
            maxLength={40}
            placeholder="Add a tag"
            onChange={(event) => setDraft(event.target.value)}
            aria-invalid={draft !== "" && !valid}
          />
          <button type="submit" className="button" disabled={!valid || change.isPending}>
            Add tag
          </button>
        </form>
      )}
      {change.isError && (
        <p className="form-error" role="alert">
          {describeError(change.error)}
        </p>
      )}
    </section>
  );
}

/** Admins' notes, newest last, and a box to add one at any time. */
export function NotesSection({ order, canEdit }: { order: Order; canEdit: boolean }) {
  const noteId = useId();
  const [text, setText] = useState("");
  const add = useAddNote(order.id);
  const notes = order.notes ?? [];
  const nameOf = useUserNames();
  const { user } = useSessionState();

  const onAdd = (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    add.mutate(text.trim(), { onSuccess: () => setText("") });
  };

  return (
    <section className="detail-section" aria-labelledby="notes-title">
      <h3 id="notes-title">Notes</h3>
      <ol className="timeline" aria-label="Notes">
        {notes.length === 0 && <li className="muted">No notes yet</li>}
        {notes.map((note) => (
          <li key={note.id} className="timeline-entry">
            <span className="timeline-dot note-dot" aria-hidden="true" />
            <div>
              <p className="timeline-note">{note.text}</p>
              <p className="muted small">
                {note.writtenBy === user?.id ? "You" : (nameOf(note.writtenBy) ?? "An admin")} ·{" "}
                <time dateTime={note.writtenAt}>{formatAbsolute(note.writtenAt)}</time>
              </p>
            </div>
          </li>
        ))}
      </ol>
      {canEdit && (
        <form className="stacked-form" onSubmit={onAdd}>
          <label className="field" htmlFor={noteId}>
            <span className="field-label">Add a note</span>
          </label>
          <textarea
            id={noteId}
            rows={2}
            maxLength={2000}
            value={text}
            onChange={(event) => setText(event.target.value)}
            placeholder="Visible to every admin, and searchable"
          />
          <button type="submit" className="button" disabled={!text.trim() || add.isPending}>
            Add note
          </button>
          {add.isError && (
            <p className="form-error" role="alert">
              {describeError(add.error)}
            </p>
          )}
        </form>
      )}
    </section>
  );
}
