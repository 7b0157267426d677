import { useQuery } from "@tanstack/react-query";
import type { Pipeline as PipelineState } from "../../lib/apiTypes";
import { unwrap } from "../../lib/api";
import { formatCount } from "../../lib/format";
import { useApi } from "../../lib/services";

/** How far behind the pipeline is (`GET /api/pipeline`, issue 23) and each of its lanes. */
export type Pipeline = PipelineState;
export type PipelineLane = Pipeline["lanes"][number];

/** A slow, fixed rate: orders answers from what it last measured, and a backlog moves in minutes. */
export const PIPELINE_POLL_MS = 10_000;

export const pipelineKeys = { all: ["pipeline"] as const };

export function usePipeline() {
  const api = useApi();
  return useQuery({
    queryKey: pipelineKeys.all,
    queryFn: ({ signal }) => unwrap(api.GET("/api/pipeline", { signal })),
    refetchInterval: PIPELINE_POLL_MS,
    // A missing answer is shown as "lag unknown", never retried in a burst.
    retry: false,
  });
}

/** "about 12 min", "about 40 s", "about 2.5 h". */
export function formatBehind(seconds: number): string {
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} min`;
  return `about ${Math.round(seconds / 360) / 10} h`;
}

/** Two significant figures from a thousand on (80,187 is "80,000"): the count moves fast. */
export function formatWaiting(waiting: number): string {
  const rounded = waiting < 1000 ? waiting : Number(waiting.toPrecision(2));
  return `${formatCount(rounded)} ${waiting === 1 ? "change" : "changes"} waiting`;
}

/** The header's words for a pipeline that is not live. */
export function catchingUpLabel(pipeline: Pipeline): string {
  return `Catching up: ${formatBehind(pipeline.behindSeconds)} behind, ${formatWaiting(pipeline.waiting)}`;
}
