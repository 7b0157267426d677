import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap } from "../../lib/api";
import type { OrderStatus } from "../../lib/apiTypes";
import { useApi } from "../../lib/services";
import { orderKeys } from "../orders/queries";
import { isFinished, type ApiOrderView, type Job } from "./types";

export const jobKeys = {
  job: (id: string) => ["jobs", id] as const,
};

/** How often a running job's progress is asked for: a fixed, slow rate, so a bulk move's own
 * progress never adds up to the tab's rate limit. */
export const JOB_POLL_MS = 3_000;

/** A job's progress, polled every `JOB_POLL_MS` until it finishes. */
export function useJob(id: string | undefined) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: jobKeys.job(id ?? ""),
    enabled: id !== undefined,
    queryFn: async ({ signal }) => {
      const job = await unwrap(api.GET("/api/jobs/{job_id}", { params: { path: { job_id: id ?? "" } }, signal })).then(
        (body) => body.job,
      );
      if (isFinished(job) && job.kind === "status_move") void queryClient.invalidateQueries({ queryKey: orderKeys.all });
      return job;
    },
    refetchInterval: (query) => (query.state.data && isFinished(query.state.data) ? false : JOB_POLL_MS),
  });
}

export type BulkTarget = { orderIds: string[] } | { view: ApiOrderView };

/** What a move needs besides its status: a reason (the note) to cancel, a shipment to ship. */
export interface BulkMoveNeeds {
  note?: string;
  shipment?: { carrier: string; trackingNumbers: Record<string, string> };
}

/** Every order a finished bulk job refused, with the server's reason. */
export function useJobRefusals(id: string, refused: number) {
  const api = useApi();
  return useQuery({
    queryKey: [...jobKeys.job(id), "refused", refused],
    enabled: refused > 0,
    queryFn: async ({ signal }) => {
      const items = [];
      for (let page = 1; ; page += 1) {
        const body = await unwrap(
          api.GET("/api/jobs/{job_id}/items", {
            params: { path: { job_id: id }, query: { outcome: "refused", page, limit: 1000 } },
            signal,
          }),
        );
        items.push(...body.items);
        if (page >= body.pagination.totalPages) return items;
      }
    },
  });
}

export function useBulkMove() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ status, target, needs }: { status: OrderStatus; target: BulkTarget; needs?: BulkMoveNeeds }) =>
      unwrap(api.POST("/api/bulk-moves", { body: { status, ...target, ...needs } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: orderKeys.all }),
  });
}

export function useCancelJob() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/api/jobs/{job_id}/cancel", { params: { path: { job_id: id } } })).then((body) => body.job),
    onSuccess: (job: Job) => queryClient.setQueryData(jobKeys.job(job.id), job),
  });
}
