import { formatCount } from "../../lib/format";
import { useCancelJob, useJob } from "./queries";
import { isFinished, type Job } from "./types";

const STATE_LABELS: Record<Job["state"], string> = {
  queued: "Waiting to start",
  running: "Running",
  succeeded: "Done",
  cancelled: "Cancelled",
  failed: "Failed",
};

/** A background job's progress bar, with a cancel button while it runs. */
export function JobProgress({ id, label, children }: { id: string; label: string; children?: (job: Job) => React.ReactNode }) {
  const { data: job } = useJob(id);
  const cancel = useCancelJob();
  if (!job) return <p className="muted small">{label}: starting…</p>;
  const percent = job.total > 0 ? Math.round((job.processed / job.total) * 100) : isFinished(job) ? 100 : 0;
  return (
    <div className="job-progress" role="status" aria-label={label}>
      <div className="job-progress-line">
        <span className="strong">{label}</span>
        <span className={`job-state job-state-${job.state}`}>{STATE_LABELS[job.state]}</span>
        <span className="muted small">
          {formatCount(job.processed)} of {formatCount(job.total)}
          {job.kind === "status_move" && ` · ${formatCount(job.moved)} moved, ${formatCount(job.refused)} refused`}
        </span>
        {!isFinished(job) && (
          <button
            type="button"
            className="button button-quiet"
            disabled={cancel.isPending || job.cancelRequested}
            onClick={() => cancel.mutate(job.id)}
          >
            {job.cancelRequested ? "Cancelling…" : "Cancel"}
          </button>
        )}
      </div>
      <progress max={100} value={percent} aria-label={`${label} progress`}>
        {percent}%
      </progress>
      {job.error && <p className="form-error">{job.error}</p>}
      {children?.(job)}
    </div>
  );
}
