import { useQuery } from "@tanstack/react-query";
import { unwrap } from "../../lib/api";
import { formatCount } from "../../lib/format";
import { useApi } from "../../lib/services";

/** One lane of the pipeline (`GET /api/pipeline`): live changes and the history backfill. */
export interface PipelineLane {
  lane: string;
  waiting: number;
  oldestWaitingAgeSeconds: number;
}

/**
 * How far behind the pipeline is (`GET /api/pipeline`, issue 23, the shape agreed with the
 * service side). Typed here until the route is in openapi.json; then it comes from the schema.
 */
export interface Pipeline {
  state: "live" | "catching_up";
  behindSeconds: number;
  waiting: number;
  lanes: PipelineLane[];
  measuredAt: string;
}

/** A slow, fixed rate: the answer is cached at the gateway for 2 s and moves in minutes. */
export const PIPELINE_POLL_MS = 10_000;

export const pipelineKeys = { all: ["pipeline"] as const };

type PipelineGet = (
  path: "/api/pipeline",
  init: { signal?: AbortSignal },
) => Promise<{ data?: Pipeline; error?: unknown; response: Response }>;

export function usePipeline() {
  const api = useApi();
  const get = (api.GET as unknown as PipelineGet).bind(api);
  return useQuery({
    queryKey: pipelineKeys.all,
    queryFn: ({ signal }) => unwrap(get("/api/pipeline", { signal })),
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
