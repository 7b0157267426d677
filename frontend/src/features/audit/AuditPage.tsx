import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { ErrorState, EmptyState } from "../../components/ui/States";
import { TimeAgo } from "../../components/ui/TimeAgo";
import { unwrap } from "../../lib/api";
import { formatCount } from "../../lib/format";
import { useApi } from "../../lib/services";
import { useDocumentTitle } from "../../lib/useDocumentTitle";

const LIMIT = 50;

/** The audit log, newest first: who did what, when, from where (admins only). */
export function AuditPage() {
  useDocumentTitle("Audit log");
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("page")) || 1);
  const action = params.get("action") ?? "";
  const actorId = params.get("actorId") ?? "";
  const target = params.get("target") ?? "";
  const query = {
    page,
    limit: LIMIT,
    ...(action ? { action } : {}),
    ...(actorId ? { actorId } : {}),
    ...(target ? { target } : {}),
  };
  const log = useQuery({
    queryKey: ["audit", query],
    queryFn: ({ signal }) => unwrap(api.GET("/api/audit", { params: { query }, signal })),
    placeholderData: keepPreviousData,
  });
  const set = (name: string, value: string) =>
    setParams((current) => {
      const next = new URLSearchParams(current);
      if (value) next.set(name, value);
      else next.delete(name);
      if (name !== "page") next.delete("page");
      return next;
    });

  return (
    <div className="page">
      <header className="page-header">
        <h1>Audit log</h1>
      </header>
      <section className="filters" aria-label="Audit filters">
        <label className="field">
          <span className="field-label">Action</span>
          <input
            defaultValue={action}
            placeholder="e.g. order.status_moved"
            onBlur={(event) => set("action", event.target.value.trim())}
            onKeyDown={(event) => event.key === "Enter" && set("action", event.currentTarget.value.trim())}
          />
        </label>
        <label className="field">
          <span className="field-label">Actor id</span>
          <input
            defaultValue={actorId}
            onBlur={(event) => set("actorId", event.target.value.trim())}
            onKeyDown={(event) => event.key === "Enter" && set("actorId", event.currentTarget.value.trim())}
          />
        </label>
        <label className="field">
          <span className="field-label">Target</span>
          <input
            defaultValue={target}
            onBlur={(event) => set("target", event.target.value.trim())}
            onKeyDown={(event) => event.key === "Enter" && set("target", event.currentTarget.value.trim())}
          />
        </label>
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
                <th scope="col">Outcome</th>
                <th scope="col">Who</th>
                <th scope="col">Target</th>
                <th scope="col">From</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {log.data?.records.map((record) => (
                <tr key={record.eventId}>
                  <td>
                    <TimeAgo iso={record.occurredAt} />
                  </td>
                  <td className="strong">{record.action}</td>
                  <td>{record.outcome}</td>
                  <td>{record.actorEmail ?? record.actorId ?? "—"}</td>
                  <td>{record.target ?? "—"}</td>
                  <td>{record.clientAddress ?? "—"}</td>
                  <td className="muted small">{record.requestId ?? "—"}</td>
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
