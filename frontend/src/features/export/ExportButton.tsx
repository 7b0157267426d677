import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { unwrap } from "../../lib/api";
import { describeError } from "../../lib/errors";
import { useApi } from "../../lib/services";
import { JobProgress } from "../bulk/JobProgress";
import { apiView, type Job } from "../bulk/types";
import type { OrderView } from "../orders/orderView";

/** Exports the current view (filters, search, sort) to CSV; the link expires after minutes. */
export function ExportButton({ view }: { view: OrderView }) {
  const api = useApi();
  const [jobId, setJobId] = useState<string>();
  const start = useMutation({
    mutationFn: () => unwrap(api.POST("/api/exports", { body: { view: apiView(view) } })).then((body) => body.job),
    onSuccess: (job) => setJobId(job.id),
  });
  return (
    <div className="export">
      <button type="button" className="button" disabled={start.isPending} onClick={() => start.mutate()}>
        Export CSV
      </button>
      {start.isError && <p className="form-error">{describeError(start.error)}</p>}
      {jobId && (
        <JobProgress key={jobId} id={jobId} label="Export">
          {(job) => <DownloadLink job={job} again={start.isPending ? undefined : () => start.mutate()} />}
        </JobProgress>
      )}
    </div>
  );
}

/** Whether a finished export's link still opens its file (a link the server left out, after the
 * file's retention, never does). */
export function linkExpired(job: Pick<Job, "downloadUrl" | "downloadExpiresAt">, now: number): boolean {
  if (!job.downloadUrl) return true;
  return !!job.downloadExpiresAt && now >= Date.parse(job.downloadExpiresAt);
}

/**
 * The finished export's download link while it works; once it has expired, says so and offers
 * to export again (an expired link would save the server's error as a file).
 */
export function DownloadLink({ job, again }: { job: Job; again?: () => void }) {
  const [now, setNow] = useState(() => Date.now());
  const expiresAt = job.downloadExpiresAt ? Date.parse(job.downloadExpiresAt) : undefined;
  useEffect(() => {
    if (expiresAt === undefined) return;
    const left = expiresAt - Date.now();
    if (left <= 0) {
      // The job's answer came with a link that ran out after this showed first (while the
      // export ran, or a tab woke up): `now` is from then, so look at the clock again.
      setNow(Date.now());
      return;
    }
    const timer = setTimeout(() => setNow(Date.now()), left + 100);
    return () => clearTimeout(timer);
  }, [expiresAt]);
  if (job.state !== "succeeded") return null;
  if (linkExpired(job, now)) {
    return (
      <p className="export-expired" role="status">
        <span className="badge">Expired</span> This download link has expired.{" "}
        <button type="button" className="button button-primary" disabled={!again} onClick={again}>
          Export again
        </button>
      </p>
    );
  }
  return (
    <a
      className="button button-primary"
      href={job.downloadUrl ?? undefined}
      download
      onClick={(event) => {
        // The timer may be late (a sleeping laptop): never follow a link that no longer opens.
        if (linkExpired(job, Date.now())) {
          event.preventDefault();
          setNow(Date.now());
        }
      }}
    >
      Download CSV
    </a>
  );
}
