import { formatCount } from "../../lib/format";
import type { StreamState } from "../events/orderEvents";
import { useLiveUpdates } from "../events/LiveUpdates";
import { catchingUpLabel, formatBehind, usePipeline, type Pipeline } from "./queries";

const STREAM_LABELS = { connecting: "Connecting…", reconnecting: "Reconnecting…" } as const;

/** The header's state: "Live" only when the stream is open and the pipeline is live. */
export function headerState(stream: StreamState, pipeline: Pipeline | undefined): { css: string; label: string } {
  if (stream !== "live") return { css: stream, label: STREAM_LABELS[stream] };
  if (!pipeline) return { css: "connecting", label: "Connected, lag unknown" };
  if (pipeline.state === "live") return { css: "live", label: "Live" };
  return { css: "behind", label: catchingUpLabel(pipeline) };
}

export function PipelineStatus() {
  const { state } = useLiveUpdates();
  const pipeline = usePipeline();
  const { css, label } = headerState(state, pipeline.data);
  return (
    <span className={`stream-state stream-${css}`} role="status">
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}

/** The Channels page's plain explanation of a pipeline that is behind (nothing when live). */
export function PipelineExplanation() {
  const { data: pipeline } = usePipeline();
  if (!pipeline || pipeline.state === "live") return null;
  const history = pipeline.lanes.find((lane) => lane.lane === "history");
  const live = pipeline.lanes.find((lane) => lane.lane === "live");
  const historyBehind = history !== undefined && history.waiting > 0;
  const liveBehind = live !== undefined && live.waiting > 0 && live.oldestWaitingAgeSeconds >= 10;
  return (
    <section className="pipeline-explanation" aria-labelledby="pipeline-heading">
      <h2 id="pipeline-heading">{catchingUpLabel(pipeline)}</h2>
      <p>
        Order Hub has {formatCount(pipeline.waiting)} changes from the channels that it has not stored yet; the oldest
        arrived {formatBehind(pipeline.behindSeconds)} ago. Until they are worked through, some orders show an older
        status than the channel has.
      </p>
      {historyBehind && !liveBehind && (
        <p>
          A history import is in progress ({formatCount(history.waiting)} older changes waiting). New orders and
          recent changes still arrive first, on the live lane, so today&apos;s orders are not held up by it.
        </p>
      )}
      {liveBehind && (
        <p>
          New orders are waiting too ({formatCount(live.waiting)}, the oldest {formatBehind(live.oldestWaitingAgeSeconds)}{" "}
          old): new orders may appear late until this clears.
        </p>
      )}
    </section>
  );
}
