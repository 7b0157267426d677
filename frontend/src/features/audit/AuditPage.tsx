import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useDebouncedDraft } from "../../lib/useDebouncedDraft";
import { Link, useSearchParams } from "react-router";
import { ErrorState, EmptyState } from "../../components/ui/States";
import { TimeAgo } from "../../components/ui/TimeAgo";
import { unwrap } from "../../lib/api";
import type { paths } from "../../api/schema";
import { formatCount, humanize } from "../../lib/format";
import { useApi } from "../../lib/services";
import { useDocumentTitle } from "../../lib/useDocumentTitle";
import { useUserNames, type NameOf } from "../users/names";

const LIMIT = 50;
/** Filters apply once typing pauses this long (not per keystroke, nor only on Enter). */
export const FILTER_DELAY_MS = 350;

type AuditRecord =
  paths["/api/audit"]["get"]["responses"][200]["content"]["application/json"]["records"][number];

/** The audit log, newest first: who did what, to what, when, from where (admins only). */
export function AuditPage() {
  useDocumentTitle("Audit log");
  const api = useApi();
  const nameOf = useUserNames();
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("page")) || 1);
  const action = params.get("action") ?? "";
  const actor = params.get("actor") ?? "";
  const target = params.get("target") ?? "";
  const query = {
    page,
    limit: LIMIT,
    ...(action ? { action } : {}),
    ...(actor ? { actor } : {}),
    ...(target ? { target } : {}),
  };
  const log = useQuery({
    queryKey: ["audit", query],
    queryFn: ({ signal }) => unwrap(api.GET("/api/audit", { params: { query }, signal })),
    placeholderData: keepPreviousData,
  });
  const actions = useQuery({
    queryKey: ["audit", "actions"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/audit/actions", { signal })).then((body) => body.actions),
    staleTime: 60_000,
  });
  const set = (name: string, value: string) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value) next.set(name, value);
        else next.delete(name);
        if (name !== "page") next.delete("page");
        return next;
      },
      { replace: name !== "page" },
    );

  return (
    <div className="page">
      <header className="page-header">
        <h1>Audit log</h1>
      </header>
      <section className="filters" aria-label="Audit filters">
        <label className="field">
          <span className="field-label">Action</span>
          <select value={action} onChange={(event) => set("action", event.target.value)}>
            <option value="">Any action</option>
            {action && !(actions.data ?? []).includes(action) && <option value={action}>{action}</option>}
            {(actions.data ?? []).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <TypedFilter label="Who (email)" value={actor} placeholder="e.g. asha@" onCommit={(value) => set("actor", value)} />
        <TypedFilter
          label="Target"
          value={target}
          placeholder="order's external id, or an id"
          onCommit={(value) => set("target", value)}
        />
      </section>
      {log.isError ? (
        <ErrorState title="Could not load the audit log" error={log.error} onRetry={() => void log.refetch()} />
      ) : log.data && log.data.records.length === 0 ? (
        <EmptyState title="No audit records match" />
      ) : (
        <div className="table-wrap" aria-busy={log.isFetching}>
          <table className="orders-table audit-table">
            <caption className="visually-hidden">Audit records, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Who</th>
                <th scope="col">Target</th>
                <th scope="col">Change</th>
                <th scope="col">Outcome</th>
                <th scope="col">From</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {log.data?.records.map((record) => (
                <tr key={record.eventId}>
                  <td data-label="When">
                    <TimeAgo iso={record.occurredAt} />
                  </td>
                  <td data-label="Action" className="strong">{record.action}</td>
                  <td data-label="Who">{nameOf(record.actorId, record.actorEmail) ?? record.actorId ?? "—"}</td>
                  <td data-label="Target">
                    <Target record={record} nameOf={nameOf} onFilter={(value) => set("target", value)} />
                  </td>
                  <td data-label="Change">
                    <Change record={record} onFilter={(value) => set("target", value)} />
                  </td>
                  <td data-label="Outcome">{record.outcome}</td>
                  <td data-label="From">{record.clientAddress ?? "—"}</td>
                  <td data-label="Request id" className="muted small">{record.requestId ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log.data && log.data.pagination.total > 0 && (
        <nav className="pagination" aria-label="Audit pages">
          <span className="muted small">{formatCount(log.data.pagination.total)} records</span>
          <div className="pagination-controls">
            <button type="button" className="button" disabled={page <= 1} onClick={() => set("page", String(page - 1))}>
              Previous
            </button>
            <span className="pagination-page">
              Page {page} of {formatCount(log.data.pagination.totalPages)}
            </span>
            <button
              type="button"
              className="button"
              disabled={page >= log.data.pagination.totalPages}
              onClick={() => set("page", String(page + 1))}
            >
              Next
            </button>
          </div>
        </nav>
      )}
    </div>
  );
}

/** A text filter that applies once typing pauses; a change of the URL (back, a link) shows. */
function TypedFilter({
  label,
  value,
  placeholder,
  onCommit,
}: {
  label: string;
  value: string;
  placeholder: string;
  onCommit: (value: string) => void;
}) {
  const [draft, setDraft] = useDebouncedDraft(value, onCommit, FILTER_DELAY_MS);
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      <input type="search" value={draft} placeholder={placeholder} onChange={(event) => setDraft(event.target.value)} />
    </label>
  );
}

/** What was acted on, by name: an order by its external id (linked), a user by display name. */
function Target({ record, nameOf, onFilter }: { record: AuditRecord; nameOf: NameOf; onFilter: (value: string) => void }) {
  const target = record.target;
  if (!target) return <>—</>;
  if (record.targetExternalId) {
    return <Link to={`/orders/${target}`}>{record.targetExternalId}</Link>;
  }
  if (record.action.startsWith("user.")) return <>{nameOf(target) ?? target}</>;
  if (target.startsWith("job_") || target.startsWith("bulk_")) {
    return (
      <button type="button" className="button-link" title="Show every record of this bulk move" onClick={() => onFilter(target)}>
        {target.startsWith("job_") ? "bulk job" : "bulk move"} {target.slice(-6)}
      </button>
    );
  }
  return <>{target}</>;
}

/** The change a record made: a status move from → to, and the bulk move it was part of. */
function Change({ record, onFilter }: { record: AuditRecord; onFilter: (value: string) => void }) {
  const details = record.details as Record<string, unknown>;
  const from = typeof details.from === "string" ? details.from : null;
  const to = typeof details.to === "string" ? details.to : typeof details.status === "string" ? details.status : null;
  const bulk = typeof details.bulkMove === "string" ? details.bulkMove : null;
  const parts: React.ReactNode[] = [];
  if (from && to) parts.push(`${humanize(from)} → ${humanize(to)}`);
  else if (to) parts.push(`to ${humanize(to)}`);
  if (typeof details.moved === "number") parts.push(`${formatCount(details.moved)} moved, ${formatCount(Number(details.refused ?? 0))} refused`);
  if (typeof details.displayName === "string") parts.push(`named ${details.displayName}`);
  if (typeof details.role === "string") parts.push(`role ${details.role}`);
  return (
    <>
      {parts.length ? parts.join(" · ") : "—"}
      {bulk && (
        <>
          {" "}
          <button type="button" className="button-link small" onClick={() => onFilter(bulk)}>
            part of bulk move
          </button>
        </>
      )}
    </>
  );
}
