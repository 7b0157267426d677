import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../lib/api";
import { describeError } from "../../lib/errors";
import { useApi } from "../../lib/services";
import { JobProgress } from "../bulk/JobProgress";
import { apiView } from "../bulk/types";
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
        <JobProgress id={jobId} label="Export">
          {(job) =>
            job.downloadUrl && (
              <a className="button button-primary" href={job.downloadUrl} download>
                Download CSV
              </a>
            )
          }
        </JobProgress>
      )}
    </div>
  );
}
